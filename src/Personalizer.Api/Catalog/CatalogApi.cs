using Microsoft.AspNetCore.Mvc;
using Personalizer.Api.Http;
using Personalizer.Engine;
using Personalizer.Engine.Catalog;
using Personalizer.Engine.Validation;

namespace Personalizer.Api.Catalog;

public static class CatalogApi
{
    public static RouteGroupBuilder MapCatalogApi(this IEndpointRouteBuilder app)
    {
        var api = app.MapGroup("/v1/catalog/items").WithTags("Catalog");
        api.MapPut("/", PutItems).RequireAuthorization(Policies.Admin)
            .Accepts<CatalogUpsertRequest>("application/json")
            .Produces<CatalogUpsertResponse>()
            .WithMetadata(new RequestSizeLimitAttribute(8 << 20))
            .WithSummary("Insert or replace items in bulk.");
        api.MapGet("/{itemId}", GetItem).RequireAuthorization(Policies.Site).Produces<CatalogItemResponse>().WithSummary("One catalogue item.");
        api.MapGet("/", ListItems).RequireAuthorization(Policies.Admin).Produces<CatalogListResponse>()
            .WithSummary("The catalogue by id, a page at a time (cursor from the previous page); q searches ids, titles, categories and brands.");
        api.MapPatch("/{itemId}", PatchItem).RequireAuthorization(Policies.Admin)
            .Accepts<CatalogPatchRequest>("application/json")
            .Produces<CatalogItemResponse>()
            .ProducesProblem(StatusCodes.Status404NotFound)
            .WithMetadata(new RequestSizeLimitAttribute(64 * 1024))
            .WithSummary("Change single fields of an item (stock, price, …); the others stay as they are.");
        api.MapDelete("/{itemId}", DeleteItem).RequireAuthorization(Policies.Admin)
            .Produces(StatusCodes.Status204NoContent).ProducesProblem(StatusCodes.Status404NotFound)
            .WithSummary("Delete an item: it is never recommended again.");
        return api;
    }

    private static async Task<IResult> PutItems(HttpContext http, CatalogService catalog, PersonalizerOptions options, CancellationToken ct)
    {
        var (body, problem) = await JsonBody.ReadAsync(http.Request, ApiJsonContext.Default.CatalogUpsertRequest, ct);
        if (problem is not null)
        {
            return problem;
        }
        var errors = new ValidationErrors();
        var items = body!.ToItems(options.Limits.MaxItemsPerUpsert, errors);
        if (items is null)
        {
            return JsonBody.Invalid(errors);
        }
        return TypedResults.Ok(new CatalogUpsertResponse(await catalog.UpsertAsync(http.Caller().Site, items, ct)));
    }

    public const int MaxPage = 500;

    private static IResult ListItems(HttpContext http, CatalogService catalog, string? cursor, int? limit, string? q)
    {
        var errors = new ValidationErrors();
        if (limit is < 1 or > MaxPage)
        {
            errors.Add("limit", $"must be from 1 to {MaxPage}");
        }
        if (q is { Length: > 200 })
        {
            errors.Add("q", "must be at most 200 characters");
        }
        if (!errors.IsEmpty)
        {
            return JsonBody.Invalid(errors);
        }
        var all = catalog.Snapshot(http.Caller().Site).All; // ordered by id
        var start = 0;
        if (cursor is not null)
        {
            // The cursor is the last id of the previous page: the next page starts after it, even if it was deleted since.
            var lo = 0;
            var hi = all.Length;
            while (lo < hi)
            {
                var mid = (lo + hi) / 2;
                if (string.CompareOrdinal(all[mid].Id, cursor) <= 0)
                {
                    lo = mid + 1;
                }
                else
                {
                    hi = mid;
                }
            }
            start = lo;
        }
        var page = limit ?? 100;
        var items = new List<CatalogItemResponse>(page);
        var i = start;
        var matching = q is null ? all.Length : 0;
        for (; i < all.Length && items.Count < page; i++)
        {
            if (q is null || Matches(all[i], q))
            {
                items.Add(all[i].ToResponse());
            }
        }
        if (q is not null)
        {
            foreach (var item in all)
            {
                matching += Matches(item, q) ? 1 : 0;
            }
        }
        var more = false;
        for (var j = i; j < all.Length && !more; j++)
        {
            more = q is null || Matches(all[j], q);
        }
        return TypedResults.Ok(new CatalogListResponse(items, more ? items[^1].Id : null, matching));
    }

    private static bool Matches(CatalogItem item, string q) =>
        item.Id.Contains(q, StringComparison.OrdinalIgnoreCase) || item.Title.Contains(q, StringComparison.OrdinalIgnoreCase)
        || (item.Brand?.Contains(q, StringComparison.OrdinalIgnoreCase) ?? false)
        || Array.Exists(item.Categories, c => c.Contains(q, StringComparison.OrdinalIgnoreCase));

    private static async Task<IResult> PatchItem(string itemId, HttpContext http, CatalogService catalog, CancellationToken ct)
    {
        if (JsonBody.InvalidId("itemId", itemId) is { } invalid)
        {
            return invalid;
        }
        var (body, problem) = await JsonBody.ReadAsync(http.Request, ApiJsonContext.Default.CatalogPatchRequest, ct);
        if (problem is not null)
        {
            return problem;
        }
        var errors = new ValidationErrors();
        var patch = body!.ToPatch(errors);
        if (!errors.IsEmpty)
        {
            return JsonBody.Invalid(errors);
        }
        var patched = await catalog.PatchAsync(http.Caller().Site, itemId, patch, errors, ct);
        if (patched is null)
        {
            return NoSuchItem(itemId);
        }
        return errors.IsEmpty ? TypedResults.Ok(patched.ToResponse()) : JsonBody.Invalid(errors);
    }

    private static async Task<IResult> DeleteItem(string itemId, HttpContext http, CatalogService catalog, CancellationToken ct)
    {
        if (JsonBody.InvalidId("itemId", itemId) is { } invalid)
        {
            return invalid;
        }
        return await catalog.DeleteAsync(http.Caller().Site, itemId, ct) ? TypedResults.NoContent() : NoSuchItem(itemId);
    }

    private static Microsoft.AspNetCore.Http.HttpResults.ProblemHttpResult NoSuchItem(string itemId) =>
        TypedResults.Problem(statusCode: StatusCodes.Status404NotFound, title: "No such item", detail: $"The catalogue of this site has no item '{itemId}'.");

    private static IResult GetItem(string itemId, HttpContext http, CatalogService catalog)
    {
        if (JsonBody.InvalidId("itemId", itemId) is { } invalid)
        {
            return invalid;
        }
        return catalog.Find(http.Caller().Site, itemId) is { } item
            ? TypedResults.Ok(item.ToResponse())
            : TypedResults.Problem(statusCode: StatusCodes.Status404NotFound, title: "No such item", detail: $"The catalogue of this site has no item '{itemId}'.");
    }
}
