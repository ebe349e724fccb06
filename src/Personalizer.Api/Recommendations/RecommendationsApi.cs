using Personalizer.Api.Http;
using Personalizer.Engine;
using Personalizer.Engine.Configuration;
using Personalizer.Engine.Decisions;
using Personalizer.Engine.Recommendations;
using Personalizer.Engine.Validation;
using Personalizer.Engine.Rules;

namespace Personalizer.Api.Recommendations;

public static class RecommendationsApi
{
    public const int MaxCount = 100;

    public static IEndpointRouteBuilder MapRecommendationsApi(this IEndpointRouteBuilder app)
    {
        app.MapGet("/v1/recommendations/{visitorId}", GetRecommendations).WithTags("Recommendations").RequireAuthorization(Policies.Site)
            .Produces<RecommendationsResponse>()
            .WithSummary("A recommendation list for apps: personalized, similar, trending, recently_viewed or bought_together.");

        var models = app.MapGroup("/v1/models").WithTags("Models").RequireAuthorization(Policies.Admin);
        models.MapGet("/", ListModels).Produces<List<ModelResponse>>().WithSummary("Model versions of this site, newest first.");
        models.MapPost("/train", Train).Produces<ModelResponse>().WithSummary("Train a model from the event log now and make it current.");
        return app;
    }

    private static async Task<IResult> GetRecommendations(string visitorId, HttpContext http, DecisionEngine engine, string? strategy, string? itemId, int? count, CancellationToken ct)
    {
        var errors = new ValidationErrors();
        errors.Id("visitorId", visitorId);
        strategy ??= RecommendationStrategies.Personalized;
        if (Array.IndexOf(RecommendationStrategies.All, strategy) < 0)
        {
            errors.Add("strategy", $"must be one of: {string.Join(", ", RecommendationStrategies.All)}");
        }
        errors.Id("itemId", itemId, required: false);
        if (itemId is null && strategy is RecommendationStrategies.Similar)
        {
            errors.Add("itemId", "is required for strategy 'similar'");
        }
        if (count is < 1 or > MaxCount)
        {
            errors.Add("count", $"must be from 1 to {MaxCount}");
        }
        var (filters, boost) = RecommendationQuery.Read(http.Request.Query, errors);
        if (!errors.IsEmpty)
        {
            return JsonBody.Invalid(errors);
        }
        var slot = new SlotDefinition { Id = "api-" + strategy, Kind = SlotKind.Recommendations, Strategy = strategy, Count = count ?? 10, Filters = filters };
        var context = itemId is null
            ? RequestContext.Empty
            : new RequestContext { Attributes = new Dictionary<string, string> { [Engine.Strategies.RecommendationStrategyNames.ItemAttribute] = itemId } };
        var decision = await engine.RecommendAsync(http.Caller().Site, visitorId, slot, context, boost, ct);
        return TypedResults.Ok(decision.ToResponse(visitorId, strategy));
    }

    private static Microsoft.AspNetCore.Http.HttpResults.Ok<List<ModelResponse>> ListModels(HttpContext http, ModelRegistry models) =>
        TypedResults.Ok(models.Versions(http.Caller().Site).Select(m => m.ToResponse()).ToList());

    private static async Task<IResult> Train(HttpContext http, ModelTraining training, ModelRegistry models, CancellationToken ct)
    {
        var site = http.Caller().Site;
        var model = await training.TrainAsync(site, ct);
        if (model is null)
        {
            return TypedResults.Problem(statusCode: StatusCodes.Status409Conflict, title: "Nothing to learn from yet",
                detail: "The event log of this site has no product views, cart additions, clicks or purchases.");
        }
        return TypedResults.Ok(models.Versions(site).First(m => m.Version == model.Version).ToResponse());
    }
}
