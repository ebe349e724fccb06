using Personalizer.Api.Decisions;
using Personalizer.Engine.Decisions;
using Personalizer.Engine.Recommendations;
using Personalizer.Engine.Strategies;

namespace Personalizer.Api.Recommendations;

public sealed record RecommendationsResponse(string VisitorId, string Strategy, List<ItemAnswer> Items, string Source, string? Reason);

public sealed record ModelResponse(string Version, DateTimeOffset CreatedAt, int Users, int Items, int Interactions, double TrainingSeconds, IReadOnlyDictionary<string, double> Evaluation, bool Current, string Source);

internal static class RecommendationsMapping
{
    public static RecommendationsResponse ToResponse(this SlotDecision d, string visitorId, string strategy) => new(
        visitorId,
        strategy,
        [.. (d.Items ?? []).Select(i => new ItemAnswer(i.Item.Id, i.Score, i.Item.Title, i.Item.Price, i.Item.Currency, i.Item.Url, i.Item.ImageUrl, i.Item.Categories))],
        d.Source,
        d.Reason);

    public static ModelResponse ToResponse(this ModelInfo m) => new(
        m.Version, DateTimeOffset.FromUnixTimeMilliseconds(m.CreatedAt), m.Users, m.Items, m.Interactions, m.TrainingSeconds, m.Evaluation, m.Current, "recs:" + m.Version);
}
