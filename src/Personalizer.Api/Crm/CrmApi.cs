using Personalizer.Api.Http;
using Personalizer.Engine.Crm;

namespace Personalizer.Api.Crm;

public static class CrmApi
{
    public static IEndpointRouteBuilder MapCrmApi(this IEndpointRouteBuilder app)
    {
        var crm = app.MapGroup("/v1/crm").WithTags("Customers").RequireAuthorization(Policies.Admin);
        crm.MapGet("/model", Model).Produces<CustomerModel>()
            .WithSummary("The site's RFM cut points and lifetime-value parameters, as last fitted.");
        crm.MapPost("/refresh", RefreshAsync).Produces<CustomerModel>()
            .WithSummary("Refit the RFM cut points and lifetime-value models from the log now (they are refitted every Crm:RefreshMinutes anyway).");
        return app;
    }

    private static IResult Model(HttpContext http, CustomerModels models) =>
        models.Current(http.Caller().Site) is { } model
            ? TypedResults.Ok(model)
            : TypedResults.Problem(statusCode: StatusCodes.Status404NotFound, title: "No customer model yet", detail: "The first fit runs at start-up; POST /v1/crm/refresh runs one now.");

    private static async Task<IResult> RefreshAsync(HttpContext http, CustomerModelRefresh refresh, CustomerModels models, CancellationToken ct)
    {
        await refresh.RefreshAllAsync(ct);
        return TypedResults.Ok(models.Current(http.Caller().Site));
    }
}
