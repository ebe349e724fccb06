using System.Text;
using Personalizer.Engine.Validation;

namespace Personalizer.Api.Http;

/// <summary>
/// Bodies read a line at a time (NDJSON histories, product feeds): strict UTF-8, blank lines skipped,
/// each line's errors under <c>lines[N]</c> (N from 1), and reading stopped after <see cref="MaxErrors"/>
/// bad lines so that a wrong file gives a readable answer.
/// </summary>
internal static class LineBody
{
    public const int MaxErrors = 50;

    /// <summary>
    /// Calls <paramref name="line"/> with each non-blank line and its path; it adds to
    /// <paramref name="errors"/> what is wrong and returns false to stop reading. Returns a problem
    /// when the body itself could not be read (cut off, too slow), null otherwise.
    /// </summary>
    public static async Task<IResult?> ReadAsync(HttpRequest request, ValidationErrors errors, Func<string, string, bool> line, CancellationToken ct, int maxLineBytes = int.MaxValue)
    {
        using var reader = new StreamReader(request.Body, new UTF8Encoding(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true), detectEncodingFromByteOrderMarks: false, bufferSize: 1 << 16);
        var number = 0;
        var bad = 0;
        try
        {
            while (await reader.ReadLineAsync(ct) is { } text)
            {
                number++;
                if (string.IsNullOrWhiteSpace(text))
                {
                    continue;
                }
                var path = $"lines[{number}]";
                var before = errors.Count;
                var go = true;
                if (Encoding.UTF8.GetByteCount(text) > maxLineBytes)
                {
                    errors.Add(path, $"is longer than {maxLineBytes} bytes");
                }
                else
                {
                    go = line(text, path);
                }
                if (errors.Count > before && ++bad >= MaxErrors)
                {
                    errors.Add("lines", $"the first {MaxErrors} bad lines are listed; nothing was imported");
                    break;
                }
                if (!go)
                {
                    break;
                }
            }
        }
        catch (DecoderFallbackException)
        {
            errors.Add($"lines[{number + 1}]", "is not valid UTF-8");
        }
        catch (BadHttpRequestException ex)
        {
            return TypedResults.Problem(statusCode: ex.StatusCode, title: "The body could not be read", detail: ex.Message);
        }
        return null;
    }
}
