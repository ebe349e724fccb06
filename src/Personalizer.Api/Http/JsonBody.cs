using System.Buffers;
using System.IO.Pipelines;
using System.Text.Json;
using System.Text.Json.Serialization.Metadata;
using System.Text.Unicode;
using Personalizer.Engine;
using Personalizer.Engine.Validation;

namespace Personalizer.Api.Http;

/// <summary>
/// Reads a JSON body and turns every way it can be wrong into a problem details answer naming the
/// place: wrong content type (415), too large (413), too slow to arrive (408), cut off (400), not UTF-8,
/// not JSON or a value of the wrong type (400 with the JSON path, line and position). None of these is a
/// server error, so none is logged as one.
/// </summary>
public static class JsonBody
{
    /// <param name="allowTextPlain">Also take a JSON body sent as text/plain (what <c>navigator.sendBeacon</c> can send cross-origin without a preflight).</param>
    public static async Task<(T? Value, IResult? Problem)> ReadAsync<T>(HttpRequest request, JsonTypeInfo<T> type, CancellationToken ct, bool allowTextPlain = false)
        where T : class
    {
        if (!request.HasJsonContentType() && !(allowTextPlain && request.ContentType?.StartsWith("text/plain", StringComparison.OrdinalIgnoreCase) == true))
        {
            return (null, TypedResults.Problem(
                statusCode: StatusCodes.Status415UnsupportedMediaType,
                title: "The body must be JSON",
                detail: "Send the body with Content-Type: application/json."));
        }
        var reader = request.BodyReader;
        ReadResult read;
        try
        {
            // The whole body (its size is bounded by the route's limit), then one synchronous parse.
            while (true)
            {
                read = await reader.ReadAsync(ct);
                if (read.IsCompleted || read.IsCanceled)
                {
                    break;
                }
                reader.AdvanceTo(read.Buffer.Start, read.Buffer.End);
            }
        }
        catch (BadHttpRequestException ex)
        {
            return (null, TypedResults.Problem(statusCode: ex.StatusCode, title: ex.StatusCode switch
            {
                StatusCodes.Status413PayloadTooLarge => "The body is too large",
                StatusCodes.Status408RequestTimeout => "The body arrived too slowly",
                _ => "The body was cut off",
            }, detail: ex.Message));
        }
        try
        {
            return Parse(read.Buffer, type);
        }
        finally
        {
            reader.AdvanceTo(read.Buffer.End);
        }
    }

    private static (T? Value, IResult? Problem) Parse<T>(ReadOnlySequence<byte> body, JsonTypeInfo<T> type)
        where T : class
    {
        if (body.IsSingleSegment)
        {
            return Parse(body.FirstSpan, type);
        }
        var length = (int)body.Length;
        var copy = ArrayPool<byte>.Shared.Rent(length);
        try
        {
            body.CopyTo(copy);
            return Parse(copy.AsSpan(0, length), type);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(copy);
        }
    }

    /// <summary>
    /// JSON text is UTF-8 (RFC 8259), and the parser does not check the inside of every string, so the
    /// body is checked first; then one parse of the whole body, which names the path of what is wrong.
    /// </summary>
    private static (T? Value, IResult? Problem) Parse<T>(ReadOnlySpan<byte> body, JsonTypeInfo<T> type)
        where T : class
    {
        if (!Utf8.IsValid(body))
        {
            return (null, Invalid("$", "is not valid UTF-8"));
        }
        try
        {
            var value = JsonSerializer.Deserialize(body, type);
            return value is null
                ? (null, Invalid("$", "the body must be a JSON object, not null"))
                : (value, null);
        }
        catch (JsonException ex)
        {
            var where = ex.LineNumber is { } line ? $" (line {line + 1}, position {ex.BytePositionInLine + 1})" : "";
            return (null, Invalid(Path(ex.Path), $"is not valid JSON or has the wrong type{where}"));
        }
    }

    public static IResult Invalid(string path, string message) =>
        TypedResults.ValidationProblem(new Dictionary<string, string[]> { [path] = [message] }, title: "The request is not valid");

    /// <summary>A route id that breaks the id rule, as a problem naming it; null when the id is fine.</summary>
    public static IResult? InvalidId(string path, string value) =>
        Ids.IsValid(value) ? null : Invalid(path, $"must be {Ids.Rule}");

    public static IResult Invalid(ValidationErrors errors) =>
        TypedResults.ValidationProblem(errors.ToDictionary(), title: "The request is not valid");

    /// <summary><c>$.events[3].itemId</c> → <c>events[3].itemId</c>, the form used in every error.</summary>
    private static string Path(string? jsonPath) =>
        string.IsNullOrEmpty(jsonPath) || jsonPath == "$" ? "$" : jsonPath.StartsWith("$.", StringComparison.Ordinal) ? jsonPath[2..] : jsonPath;
}
