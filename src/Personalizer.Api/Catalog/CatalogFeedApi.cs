using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.Mvc;
using Personalizer.Api.Http;
using Personalizer.Engine.Catalog;
using Personalizer.Engine.Validation;

namespace Personalizer.Api.Catalog;

/// <summary>
/// <c>PUT /v1/catalog/feed</c>: a shop's product feed in one body, NDJSON (one item per line, the shape of
/// <c>PUT /v1/catalog/items</c>) or CSV (<c>text/csv</c>, a header naming the columns id, title,
/// categories, price, currency, inStock, brand, tags, url, imageUrl and attributes.NAME; lists separated by <c>|</c>; one
/// record per line, fields quoted as RFC 4180 says). Validated whole first (errors name
/// <c>lines[N].field</c>), then upserted: a feed is applied whole or not at all.
/// </summary>
public static class CatalogFeedApi
{
    public const long MaxBodyBytes = 512L << 20;
    private const int Chunk = 1000;

    public static RouteGroupBuilder MapCatalogFeedApi(this IEndpointRouteBuilder app)
    {
        var feed = app.MapGroup("/v1/catalog").WithTags("Catalog");
        feed.MapPut("/feed", PutFeedAsync).RequireAuthorization(Policies.Admin)
            .Accepts<CatalogItemRequest>("application/x-ndjson", "text/csv", "application/jsonl")
            .WithMetadata(new RequestSizeLimitAttribute(MaxBodyBytes))
            .Produces<CatalogFeedResponse>()
            .ProducesValidationProblem()
            .WithSummary("Import a product feed (NDJSON or CSV): validated whole, then every item inserted or replaced.");
        return feed;
    }

    private static async Task<IResult> PutFeedAsync(HttpContext http, CatalogService catalog, CancellationToken ct)
    {
        var started = Stopwatch.GetTimestamp();
        var csv = http.Request.ContentType?.StartsWith("text/csv", StringComparison.OrdinalIgnoreCase) == true;
        var errors = new ValidationErrors();
        var items = new List<CatalogItem>();
        var seen = new HashSet<string>(StringComparer.Ordinal);
        string[]? header = null;
        var lines = 0;
        var unreadable = await LineBody.ReadAsync(http.Request, errors, (line, path) =>
        {
            if (csv && header is null)
            {
                header = Csv.Split(line);
                foreach (var column in header)
                {
                    if (Array.IndexOf(Csv.Columns, column) < 0 && !Csv.IsAttribute(column))
                    {
                        errors.Add($"{path}.{column}", $"is not a column: expected {string.Join(", ", Csv.Columns)} or attributes.NAME");
                    }
                }
                if (Array.IndexOf(header, "id") < 0 || Array.IndexOf(header, "title") < 0)
                {
                    errors.Add(path, "the header must name at least the columns id and title");
                }
                return errors.IsEmpty; // no line can be read under a wrong header
            }
            lines++;
            var before = errors.Count;
            CatalogItemRequest? request = null;
            if (csv)
            {
                request = Csv.Item(header!, Csv.Split(line), path, errors);
            }
            else
            {
                try
                {
                    request = JsonSerializer.Deserialize(line, ApiJsonContext.Default.CatalogItemRequest);
                }
                catch (JsonException ex)
                {
                    errors.Add(path, $"is not a JSON item: {ex.Message}");
                }
            }
            if (request is not null && errors.Count == before)
            {
                var item = request.ToItem(path, errors);
                if (errors.Count == before && !seen.Add(item.Id))
                {
                    errors.Add($"{path}.id", $"'{item.Id}' appears more than once in this feed");
                }
                else if (errors.Count == before)
                {
                    items.Add(item);
                }
            }
            return true;
        }, ct);
        if (unreadable is not null)
        {
            return unreadable;
        }
        if (!errors.IsEmpty)
        {
            return JsonBody.Invalid(errors);
        }
        if (items.Count == 0)
        {
            return JsonBody.Invalid("lines", "the feed holds no item");
        }
        var upserted = 0;
        var site = http.Caller().Site;
        for (var at = 0; at < items.Count; at += Chunk)
        {
            upserted += await catalog.UpsertAsync(site, [.. items.Skip(at).Take(Chunk)], ct);
        }
        return TypedResults.Ok(new CatalogFeedResponse(lines, upserted, (long)Stopwatch.GetElapsedTime(started).TotalMilliseconds));
    }

    /// <summary>One CSV record per line (RFC 4180 quoting, no line breaks inside fields).</summary>
    private static class Csv
    {
        public static readonly string[] Columns = ["id", "title", "categories", "price", "currency", "inStock", "brand", "tags", "url", "imageUrl"];

        public const string AttributePrefix = "attributes.";

        public static bool IsAttribute(string column) => column.StartsWith(AttributePrefix, StringComparison.Ordinal) && column.Length > AttributePrefix.Length;

        /// <summary>
        /// The <c>attributes.NAME</c> columns as the JSON object items carry: true/false as flags,
        /// numbers as numbers, values with '|' as lists, anything else as text; empty cells are left out.
        /// </summary>
        private static JsonElement? Attributes(string[] header, string[] fields)
        {
            System.Text.Json.Nodes.JsonObject? attributes = null;
            for (var k = 0; k < header.Length; k++)
            {
                if (!IsAttribute(header[k]) || fields[k].Length == 0)
                {
                    continue;
                }
                attributes ??= [];
                attributes[header[k][AttributePrefix.Length..]] = fields[k].Contains('|', StringComparison.Ordinal)
                    ? new System.Text.Json.Nodes.JsonArray([.. fields[k].Split('|').Select(Value)])
                    : Value(fields[k]);
            }
            return attributes is null ? null : JsonSerializer.SerializeToElement(attributes);
        }

        private static System.Text.Json.Nodes.JsonNode Value(string text) =>
            text is "true" or "false" ? System.Text.Json.Nodes.JsonValue.Create(text == "true")
            : double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var number) && double.IsFinite(number) ? System.Text.Json.Nodes.JsonValue.Create(number)
            : System.Text.Json.Nodes.JsonValue.Create(text);

        public static string[] Split(string line)
        {
            var fields = new List<string>();
            var field = new StringBuilder();
            var quoted = false;
            for (var i = 0; i < line.Length; i++)
            {
                var c = line[i];
                if (quoted)
                {
                    if (c == '"' && i + 1 < line.Length && line[i + 1] == '"')
                    {
                        field.Append('"');
                        i++;
                    }
                    else if (c == '"')
                    {
                        quoted = false;
                    }
                    else
                    {
                        field.Append(c);
                    }
                }
                else if (c == '"' && field.Length == 0)
                {
                    quoted = true;
                }
                else if (c == ',')
                {
                    fields.Add(field.ToString());
                    field.Clear();
                }
                else
                {
                    field.Append(c);
                }
            }
            fields.Add(field.ToString());
            return [.. fields];
        }

        public static CatalogItemRequest? Item(string[] header, string[] fields, string path, ValidationErrors errors)
        {
            if (fields.Length != header.Length)
            {
                errors.Add(path, $"has {fields.Length} fields where the header has {header.Length}");
                return null;
            }
            string? Get(string column) => Array.IndexOf(header, column) is var k and >= 0 && fields[k].Length > 0 ? fields[k] : null;
            List<string>? List(string column) => Get(column)?.Split('|').ToList();
            double? price = null;
            if (Get("price") is { } p)
            {
                if (double.TryParse(p, NumberStyles.Float, CultureInfo.InvariantCulture, out var parsed))
                {
                    price = parsed;
                }
                else
                {
                    errors.Add($"{path}.price", "must be a number such as 59.90");
                }
            }
            bool? inStock = null;
            if (Get("inStock") is { } s)
            {
                if (bool.TryParse(s, out var parsed))
                {
                    inStock = parsed;
                }
                else if (s is "0" or "1")
                {
                    inStock = s == "1";
                }
                else
                {
                    errors.Add($"{path}.inStock", "must be true, false, 1 or 0");
                }
            }
            return new CatalogItemRequest
            {
                Id = Get("id"),
                Title = Get("title"),
                Categories = List("categories"),
                Price = price,
                Currency = Get("currency"),
                InStock = inStock,
                Brand = Get("brand"),
                Tags = List("tags"),
                Url = Get("url"),
                ImageUrl = Get("imageUrl"),
                Attributes = Attributes(header, fields),
            };
        }
    }
}
