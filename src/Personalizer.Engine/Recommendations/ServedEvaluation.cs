using System.Diagnostics;
using Personalizer.Engine.Catalog;
using Personalizer.Engine.Events;
using Personalizer.Engine.Profiles;

namespace Personalizer.Engine.Recommendations;

/// <summary>
/// The offline split measured through the served path: each training interaction becomes a
/// purchase event, the model is trained by <see cref="ModelTrainer"/> with the service's options,
/// each visitor's profile is folded by <see cref="ProfileFolder"/> as the projection folds it, and
/// the list is ranked by <see cref="PersonalizedScoring"/>, the scorer the personalized strategy
/// calls. What this reports is what <c>GET /v1/recommendations?strategy=personalized</c> answers for
/// the same events, up to the catalogue's filters.
/// </summary>
public static class ServedEvaluation
{
    public static EvaluationResult Run(OfflineEvaluation split, RecommendationOptions options, CancellationToken ct = default)
    {
        var events = PurchaseEvents(split);
        var watch = Stopwatch.StartNew();
        var model = new ModelTrainer(options).TrainOn("evaluation", events, ct)
            ?? throw new InvalidOperationException("The training part holds no interactions.");
        var seconds = watch.Elapsed.TotalSeconds;

        var settings = new FoldSettings();
        var profiles = new VisitorProfile[split.UserCount];
        var users = new Dictionary<string, int>(split.UserCount, StringComparer.Ordinal);
        for (var u = 0; u < split.UserCount; u++)
        {
            users[split.UserIds[u]] = u;
        }
        foreach (var e in events)
        {
            var u = users[e.VisitorId];
            ProfileFolder.Fold(profiles[u] ??= new VisitorProfile { VisitorId = e.VisitorId }, e, CatalogSnapshot.Empty, settings);
        }

        var toSplit = new int[model.ItemIds.Length];
        var splitItems = new Dictionary<string, int>(split.ItemCount, StringComparer.Ordinal);
        for (var i = 0; i < split.ItemCount; i++)
        {
            splitItems[split.ItemIds[i]] = i;
        }
        for (var m = 0; m < toSplit.Length; m++)
        {
            toSplit[m] = splitItems[model.ItemIds[m]];
        }
        var served = new float[model.ItemIds.Length];
        var user = new float[model.Factors];
        return split.Evaluate("served", seconds, (u, scores) =>
        {
            // Items the model never saw cannot be ranked by it.
            Array.Fill(scores, float.NegativeInfinity);
            if (profiles[u] is not { } profile || !PersonalizedScoring.UserVector(model, profile, options.Weights, user))
            {
                return;
            }
            // The strategy's own ranking (approximate candidates, exact order), for a list of the evaluation's length.
            var top = new int[PersonalizedScoring.Wanted(model, profile, split.K)];
            var found = PersonalizedScoring.Rank(model, profile, user, excludePurchased: true, served, top);
            for (var k = 0; k < found; k++)
            {
                scores[toSplit[top[k]]] = served[top[k]];
            }
        });
    }

    /// <summary>The training part as purchases of one line each, in time order (ties in split order).</summary>
    public static List<TrackedEvent> PurchaseEvents(OfflineEvaluation split)
    {
        var events = new List<TrackedEvent>(split.TrainPairs.Count);
        var k = 0;
        foreach (var (u, i, ts) in split.TrainPairs)
        {
            var item = split.ItemIds[i];
            events.Add(new TrackedEvent
            {
                EventId = "t-" + k.ToString(System.Globalization.CultureInfo.InvariantCulture),
                Type = EventType.Purchase,
                VisitorId = split.UserIds[u],
                Timestamp = ts > 0 ? ts * 1000 : k,
                OrderId = "o-" + k.ToString(System.Globalization.CultureInfo.InvariantCulture),
                Lines = [new OrderLine { ItemId = item, Quantity = 1, Price = 1 }],
                Revenue = 1,
                Currency = "EUR",
            });
            k++;
        }
        return [.. events.OrderBy(e => e.Timestamp)];
    }
}
