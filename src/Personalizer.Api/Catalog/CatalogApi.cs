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
