using System.Text.Json;
using System.Text.Json.Serialization.Metadata;
using Personalizer.Engine;
using Personalizer.Engine.Validation;

namespace Personalizer.Api.Http;

/// <summary>
/// Reads a JSON body and turns every way it can be wrong into a problem details answer naming the
/// place: wrong content type (415), too large (413), not JSON or a value of the wrong type (400 with
/// the JSON path, line and position).
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
        try
        {
            var value = await JsonSerializer.DeserializeAsync(request.Body, type, ct);
            return value is null
                ? (null, Invalid("$", "the body must be a JSON object, not null"))
                : (value, null);
        }
        catch (JsonException ex)
        {
            var where = ex.LineNumber is { } line ? $" (line {line + 1}, position {ex.BytePositionInLine + 1})" : "";
            return (null, Invalid(Path(ex.Path), $"is not valid JSON or has the wrong type{where}"));
        }
        catch (BadHttpRequestException ex) when (ex.StatusCode == StatusCodes.Status413PayloadTooLarge)
        {
            return (null, TypedResults.Problem(statusCode: ex.StatusCode, title: "The body is too large", detail: ex.Message));
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
