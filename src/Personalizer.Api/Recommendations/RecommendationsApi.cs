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
        models.MapPost("/train", Train).Produces<TrainingJobResponse>(StatusCodes.Status202Accepted).Produces<ModelResponse>()
            .ProducesProblem(StatusCodes.Status409Conflict)
            .WithSummary("Start training a model from the site's history: 202 with the job to follow; with wait=true, 200 with the published model.");
        models.MapGet("/jobs/{jobId}", Job).Produces<TrainingJobResponse>().ProducesProblem(StatusCodes.Status404NotFound)
            .WithSummary("A training job: running, succeeded (with the model's version), nothing_to_learn or failed.");
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

    private static async Task<IResult> Train(HttpContext http, TrainingJobs jobs, ModelRegistry models, bool? wait, CancellationToken ct)
    {
        var site = http.Caller().Site;
        var job = jobs.Start(site);
        if (wait != true)
        {
            return TypedResults.Accepted($"/v1/models/jobs/{job.Id}", job.ToResponse());
        }
        var model = await job.Completion.WaitAsync(ct);
        if (model is null)
        {
            return NothingToLearn();
        }
        return TypedResults.Ok(models.Versions(site).First(m => m.Version == model.Version).ToResponse());
    }

    private static IResult Job(string jobId, HttpContext http, TrainingJobs jobs) =>
        jobs.Find(http.Caller().Site, jobId) is { } job
            ? TypedResults.Ok(job.ToResponse())
            : TypedResults.Problem(statusCode: StatusCodes.Status404NotFound, title: "No such training job", detail: $"No job '{jobId}' on this node for this site.");

    private static Microsoft.AspNetCore.Http.HttpResults.ProblemHttpResult NothingToLearn() =>
        TypedResults.Problem(statusCode: StatusCodes.Status409Conflict, title: "Nothing to learn from yet",
            detail: "The event log of this site has no product views, cart additions, clicks or purchases.");
}
