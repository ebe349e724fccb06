using System.Collections.Frozen;
using System.Diagnostics;
using Microsoft.Extensions.Logging;
using Personalizer.Engine.Catalog;
using Personalizer.Engine.Configuration;
using Personalizer.Engine.Diagnostics;
using Personalizer.Engine.Profiles;
using Personalizer.Engine.Recommendations;
using Personalizer.Engine.Strategies;
using Personalizer.Engine.Rules;
using Personalizer.Engine.Pipeline;

namespace Personalizer.Engine.Decisions;

/// <summary>The server-side time budget of one decide: a strategy still running after it gives way to the slot's fallback.</summary>
public sealed record DecideOptions(TimeSpan Budget);

/// <summary>
/// Answers a decide: one configuration version and catalogue snapshot for the whole request, the
/// visitor's profile, then each slot's strategy chain within the deadline. A slot whose chain has not
/// answered when the deadline passes gets its fallback (<c>source: "fallback"</c>); no slot comes back empty.
/// </summary>
public sealed class DecisionEngine
{
    private readonly ISlotStrategy[] _chain;
    private readonly ProfileService _profiles;
    private readonly ConfigurationStore _configuration;
    private readonly CatalogStore _catalog;
    private readonly TrendingTracker _trending;
    private readonly ImpressionFeed _impressions;
    private readonly Crm.CustomerModels _customers;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly TimeSpan _budget;
    private readonly double _affinityHalfLifeDays;

    public DecisionEngine(
        IEnumerable<ISlotStrategy> strategies,
        ProfileService profiles,
        ConfigurationStore configuration,
        CatalogStore catalog,
        TrendingTracker trending,
        ImpressionFeed impressions,
        Crm.CustomerModels customers,
        DecideOptions options,
        ProfileOptions profileOptions,
        TimeProvider time,
        ILogger<DecisionEngine> logger)
    {
        var list = strategies.ToList();
        // Like YARP's named policies: a name taken twice is a configuration error, found at start.
        _ = list.ToFrozenDictionary(s => s.Name, StringComparer.Ordinal);
        _chain = [.. list.OrderBy(s => s.Order).ThenBy(s => s.Name, StringComparer.Ordinal)];
        _profiles = profiles;
        _configuration = configuration;
        _catalog = catalog;
        _trending = trending;
        _impressions = impressions;
        _customers = customers;
        _time = time;
        _logger = logger;
        _budget = options.Budget;
        _affinityHalfLifeDays = profileOptions.AffinityHalfLifeDays;
    }

    public async Task<Decision> DecideAsync(string site, DecisionRequest request, CancellationToken ct = default)
    {
        using var span = DecideMetrics.Traces.StartActivity("decide");
        span?.SetTag("personalizer.site", site);
        var started = _time.GetTimestamp();
        var configuration = _configuration.Current(site);
        var context = request.Profile is { } supplied
            ? Context(site, request.VisitorId, supplied, false, request.Context, configuration, request.Explain)
            : await ContextAsync(site, request.VisitorId, request.Context, configuration, request.Explain, started, ct).ConfigureAwait(false);
        var slots = new List<SlotDecision>(request.Slots.Count);
        List<string>? unknown = null;
        foreach (var slotId in request.Slots)
        {
            if (!configuration.Slots.TryGetValue(slotId, out var slot))
            {
                (unknown ??= []).Add(slotId);
                continue;
            }
            var slotStarted = _time.GetTimestamp();
            using var slotSpan = DecideMetrics.Traces.StartActivity("decide slot");
            slotSpan?.SetTag("personalizer.slot", slot.Id);
            if (request.SlotOptions is { } asked && slot.Kind == SlotKind.Recommendations && asked.TryGetValue(slot.Id, out var page))
            {
                slot = slot.WithPageFilters(page.Filters);
                context.Boost = page.BoostCategories;
            }
            var answer = await DecideSlotAsync(context, slot, started, ct).ConfigureAwait(false);
            context.Boost = [];
            slotSpan?.SetTag("personalizer.source", answer.Source);
            slots.Add(answer);
            DecideMetrics.SlotDecided(slot.Id, answer.Source, _time.GetElapsedTime(slotStarted).TotalMilliseconds);
        }

        var decision = new Decision
        {
            DecisionId = "d-" + Guid.CreateVersion7().ToString("N"),
            Slots = slots,
            UnknownSlots = (IReadOnlyList<string>?)unknown ?? [],
            ConfigurationVersion = configuration.Version,
        };
        var consent = context.Profile?.Preferences.Tracking ?? TrackingConsent.Unknown;
        if (!request.Preview && consent != TrackingConsent.Denied)
        {
            // A visitor who refused tracking leaves no impression (so no counter and no archive row).
            _impressions.Enqueue(site, ToImpression(request.VisitorId, context.NowMs, decision, consent));
        }
        if (!request.Preview)
        {
            DecideMetrics.Decided(site, _time.GetElapsedTime(started).TotalMilliseconds);
        }
        return decision;
    }

    /// <summary>
    /// A recommendation list for apps (<c>GET /v1/recommendations</c>): the slot is made for the call,
    /// and runs through the same chain, deadline and filters as a page's recommendation slots.
    /// </summary>
    public async Task<SlotDecision> RecommendAsync(string site, string visitorId, SlotDefinition slot, RequestContext request, string[]? boost = null, CancellationToken ct = default)
    {
        var started = _time.GetTimestamp();
        var context = await ContextAsync(site, visitorId, request, _configuration.Current(site), explain: false, started, ct).ConfigureAwait(false);
        if (boost is { Length: > 0 })
        {
            context.Boost = boost;
        }
        return await DecideSlotAsync(context, slot, started, ct).ConfigureAwait(false);
    }

    private async Task<DecisionContext> ContextAsync(string site, string visitorId, RequestContext request, SiteConfiguration configuration, bool explain, long started, CancellationToken ct)
    {
        VisitorProfile? profile = null;
        var unavailable = false;
        using var span = DecideMetrics.Traces.StartActivity("profile read");
        var profileTask = _profiles.GetAsync(site, visitorId, ct);
        try
        {
            profile = profileTask.IsCompletedSuccessfully
                ? profileTask.Result
                : await profileTask.AsTask().WaitAsync(Remaining(started), _time, ct).ConfigureAwait(false);
        }
        catch (TimeoutException)
        {
            // The store is slow: decide for an unknown visitor rather than keep the page waiting.
        }
        catch (StoreUnavailableException)
        {
            unavailable = true; // the store is away: non-personal fallbacks, within the budget
        }
        return Context(site, visitorId, profile, unavailable, request, configuration, explain);
    }

    private DecisionContext Context(string site, string visitorId, VisitorProfile? profile, bool unavailable, RequestContext request, SiteConfiguration configuration, bool explain) => new()
    {
        Site = site,
        VisitorId = visitorId,
        Profile = profile,
        Request = request,
        Configuration = configuration,
        Catalog = _catalog.Get(site),
        NowMs = _time.GetUtcNow().ToUnixTimeMilliseconds(),
        Explain = explain,
        AffinityHalfLifeDays = _affinityHalfLifeDays,
        ProfileUnavailable = unavailable,
        Customers = _customers.Current(site),
    };

    private TimeSpan Remaining(long started)
    {
        var left = _budget - _time.GetElapsedTime(started);
        return left > TimeSpan.Zero ? left : TimeSpan.Zero;
    }

    private async ValueTask<SlotDecision> DecideSlotAsync(DecisionContext context, SlotDefinition slot, long started, CancellationToken ct)
    {
        // The slot's own budget runs from its start, within what is left of the decide's.
        var slotStarted = _time.GetTimestamp();
        var slotBudget = slot.BudgetMs is int ms ? TimeSpan.FromMilliseconds(ms) : _budget;
        TimeSpan Left()
        {
            var left = Min(_budget - _time.GetElapsedTime(started), slotBudget - _time.GetElapsedTime(slotStarted));
            return left > TimeSpan.Zero ? left : TimeSpan.Zero;
        }
        var trace = context.Explain ? new List<TraceStep>() : null;
        context.Trace = trace;
        if (context.ProfileUnavailable)
        {
            trace?.Add(new TraceStep("profile", "unavailable", "the profile store cannot be reached"));
            return Fallback(context, slot, "store_unavailable", trace);
        }
        foreach (var strategy in _chain)
        {
            if (!strategy.AppliesTo(slot))
            {
                continue;
            }
            if (Left() == TimeSpan.Zero)
            {
                trace?.Add(new TraceStep(strategy.Name, "skipped", "deadline passed"));
                return Fallback(context, slot, "timeout", trace);
            }
            SlotDecision? answer;
            try
            {
                var pending = strategy.DecideAsync(context, slot, ct);
                answer = pending.IsCompletedSuccessfully
                    ? pending.Result
                    : await pending.AsTask().WaitAsync(Left(), _time, ct).ConfigureAwait(false);
            }
            catch (TimeoutException)
            {
                Log.StrategyTimedOut(_logger, slot.Id, strategy.Name);
                trace?.Add(new TraceStep(strategy.Name, "timeout", $"did not answer within the slot's {Min(slotBudget, _budget).TotalMilliseconds} ms"));
                return Fallback(context, slot, "timeout", trace);
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                Log.StrategyFailed(_logger, ex, slot.Id, strategy.Name);
                trace?.Add(new TraceStep(strategy.Name, "error", ex.GetType().Name));
                return Fallback(context, slot, "error", trace);
            }
            if (answer is null)
            {
                trace?.Add(new TraceStep(strategy.Name, "passed"));
                continue;
            }
            trace?.Add(new TraceStep(strategy.Name, "answered", answer.Reason));
            answer.Trace = trace;
            return answer;
        }
        return Fallback(context, slot, "no_strategy", trace);
    }

    private static TimeSpan Min(TimeSpan a, TimeSpan b) => a < b ? a : b;

    /// <summary>
    /// Cheap and never empty: a content slot's default variant; for a recommendations slot its
    /// fallback chain (by default trending in the visitor's top category when that fills the slot,
    /// then the site's trending list topped up from the catalogue). The answer names the step.
    /// </summary>
    private SlotDecision Fallback(DecisionContext context, SlotDefinition slot, string reason, List<TraceStep>? trace)
    {
        DecideMetrics.FellBack(reason);
        if (slot.Kind == SlotKind.Content)
        {
            var content = DefaultStrategy.Content(slot, reason, StrategyNames.Fallback);
            trace?.Add(new TraceStep("fallback:" + FallbackSteps.Default, "answered", reason));
            return new SlotDecision { SlotId = slot.Id, Variant = content.Variant, Source = content.Source, Reason = content.Reason, FallbackStep = FallbackSteps.Default, Trace = trace };
        }
        foreach (var step in slot.Fallbacks.Length > 0 ? slot.Fallbacks : FallbackSteps.Standard)
        {
            if (step == FallbackSteps.CategoryTrending && !context.ProfileUnavailable && context.Profile is not null
                && context.Conditions.TopCategory is { Length: > 0 } top && !context.Profile.Preferences.ExcludedCategories.Contains(top))
            {
                var inCategory = new SlotDefinition { Id = slot.Id, Kind = slot.Kind, Count = slot.Count, Strategy = slot.Strategy, Filters = slot.Filters with { IncludeCategories = [top] } };
                var items = RecommendationFilter.Apply(_trending.Top(context.Site), context, inCategory);
                if (items.Count >= slot.Count)
                {
                    trace?.Add(new TraceStep("fallback:" + step, "answered", $"trending in {top}"));
                    return new SlotDecision { SlotId = slot.Id, Items = items, Source = StrategyNames.Fallback, Reason = reason, FallbackStep = step, Trace = trace };
                }
                trace?.Add(new TraceStep("fallback:" + step, "passed", $"{items.Count} trending items in {top}, fewer than {slot.Count}"));
            }
            else if (step == FallbackSteps.Trending)
            {
                break;
            }
        }
        var trending = TrendingStrategy.Answer(_trending, context, slot, reason);
        trace?.Add(new TraceStep("fallback:" + FallbackSteps.Trending, "answered", reason));
        return new SlotDecision { SlotId = slot.Id, Items = trending.Items, Source = StrategyNames.Fallback, Reason = reason, FallbackStep = FallbackSteps.Trending, Trace = trace };
    }

    private static Impression ToImpression(string visitorId, long at, Decision decision, TrackingConsent consent)
    {
        var slots = new SlotImpression[decision.Slots.Count];
        for (var i = 0; i < slots.Length; i++)
        {
            var s = decision.Slots[i];
            string[]? items = null;
            if (s.Items is { } list)
            {
                items = new string[list.Count];
                for (var k = 0; k < items.Length; k++)
                {
                    items[k] = list[k].Item.Id;
                }
            }
            slots[i] = new SlotImpression(s.SlotId, s.Variant?.Id, items, s.Source);
        }
        return new Impression(decision.DecisionId, visitorId, at, slots) { Consent = consent };
    }
}
