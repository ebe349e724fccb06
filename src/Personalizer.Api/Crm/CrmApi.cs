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
        crm.MapPost("/refresh", RefreshAsync).Produces<CustomerModel>().ProducesValidationProblem()
            .WithSummary("Refit the RFM cut points and lifetime-value models now (they are refitted every Crm:RefreshMinutes anyway); asOf=YYYY-MM-DD fits on the history up to that day and reports the holdout after it (holdoutDays, else up to the history's end).");
        return app;
    }

    private static IResult Model(HttpContext http, CustomerModels models) =>
        models.Current(http.Caller().Site) is { } model
            ? TypedResults.Ok(model)
            : TypedResults.Problem(statusCode: StatusCodes.Status404NotFound, title: "No customer model yet", detail: "The first fit runs at start-up; POST /v1/crm/refresh runs one now.");

    private static async Task<IResult> RefreshAsync(HttpContext http, CustomerModelRefresh refresh, CustomerModels models, TimeProvider time, CancellationToken ct,
        string? asOf = null, string? holdoutDays = null)
    {
        var errors = new Personalizer.Engine.Validation.ValidationErrors();
        DateOnly? date = null;
        if (asOf is not null)
        {
            if (!DateOnly.TryParseExact(asOf, "yyyy-MM-dd", System.Globalization.CultureInfo.InvariantCulture, System.Globalization.DateTimeStyles.None, out var parsed))
            {
                errors.Add("asOf", "must be a date as YYYY-MM-DD");
            }
            else if (parsed > DateOnly.FromDateTime(time.GetUtcNow().UtcDateTime))
            {
                errors.Add("asOf", "must not lie in the future");
            }
            else
            {
                date = parsed;
            }
        }
        int? days = null;
        if (holdoutDays is not null)
        {
            if (asOf is null)
            {
                errors.Add("holdoutDays", "needs asOf (without it, the last Crm:HoldoutDays are held out)");
            }
            else if (!int.TryParse(holdoutDays, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var n) || n is < 1 or > 3650)
            {
                errors.Add("holdoutDays", "must be a whole number of days from 1 to 3650");
            }
            else
            {
                days = n;
            }
        }
        if (!errors.IsEmpty)
        {
            return JsonBody.Invalid(errors);
        }
        await refresh.RefreshAllAsync(date, days, ct);
        return TypedResults.Ok(models.Current(http.Caller().Site));
    }
}
