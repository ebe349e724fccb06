using Personalizer.Api.Decisions;
using Personalizer.Engine.Decisions;
using Personalizer.Engine.Recommendations;
using Personalizer.Engine.Strategies;

namespace Personalizer.Api.Recommendations;

public sealed record RecommendationsResponse(string VisitorId, string Strategy, List<ItemAnswer> Items, string Source, string? Reason);

public sealed record ModelResponse(string Version, DateTimeOffset CreatedAt, int Users, int Items, int Interactions, double TrainingSeconds, IReadOnlyDictionary<string, double> Evaluation, bool Current, string Source);

/// <param name="Status">running, succeeded, nothing_to_learn or failed.</param>
public sealed record TrainingJobResponse(string JobId, string Status, DateTimeOffset StartedAt, DateTimeOffset? FinishedAt, string? Version, string? Error);

internal static class RecommendationsMapping
{
    public static TrainingJobResponse ToResponse(this TrainingJob j) => new(
        j.Id,
        j.Status switch
        {
            TrainingJobStatus.Running => "running",
            TrainingJobStatus.Succeeded => "succeeded",
            TrainingJobStatus.NothingToLearn => "nothing_to_learn",
            _ => "failed",
        },
        j.StartedAt,
        j.FinishedAt,
        j.Version,
        j.Error);

    public static RecommendationsResponse ToResponse(this SlotDecision d, string visitorId, string strategy) => new(
        visitorId,
        strategy,
        [.. (d.Items ?? []).Select(i => new ItemAnswer(i.Item.Id, i.Score, i.Item.Title, i.Item.Price, i.Item.Currency, i.Item.Url, i.Item.ImageUrl, i.Item.Categories))],
        d.Source,
        d.Reason);

    public static ModelResponse ToResponse(this ModelInfo m) => new(
        m.Version, DateTimeOffset.FromUnixTimeMilliseconds(m.CreatedAt), m.Users, m.Items, m.Interactions, m.TrainingSeconds, m.Evaluation, m.Current, "recs:" + m.Version);
}
