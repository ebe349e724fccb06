using Personalizer.Engine.Catalog;
using Personalizer.Engine.Configuration;
using Personalizer.Engine.Profiles;
using Personalizer.Engine.Rules;

namespace Personalizer.Engine.Strategies;


public sealed class DecisionRequest
{
    public required string VisitorId { get; init; }
    public RequestContext Context { get; init; } = RequestContext.Empty;
    public required IReadOnlyList<string> Slots { get; init; }
    public bool Explain { get; init; }

    /// <summary>A preview: decide for this profile instead of the stored one.</summary>
    public VisitorProfile? Profile { get; init; }

    /// <summary>A preview from the console: nothing is recorded (no impression, so reports and experiments stay true).</summary>
    public bool Preview { get; init; }

    /// <summary>The page's own filters and boosts per recommendations slot (by slot id), for this decide only.</summary>
    public IReadOnlyDictionary<string, PageSlotOptions>? SlotOptions { get; init; }
}

/// <summary>
/// What a page asks of one recommendations slot in a decide: filters every item must pass as well as the
/// slot's own (<see cref="RecommendationFilters.Page"/>), and categories to boost (drawn from the whole catalogue).
/// </summary>
public sealed record PageSlotOptions(RecommendationFilters Filters, string[] BoostCategories);

/// <summary>Everything a strategy may read for one decide; one configuration version, one catalogue snapshot.</summary>
public sealed class DecisionContext
{
    public required string Site { get; init; }
    public required string VisitorId { get; init; }
    /// <summary>Null for a visitor never seen before.</summary>
    public VisitorProfile? Profile { get; init; }
    public required RequestContext Request { get; init; }
    public required SiteConfiguration Configuration { get; init; }
    public required CatalogSnapshot Catalog { get; init; }
    public required long NowMs { get; init; }
    public bool Explain { get; init; }
    public double AffinityHalfLifeDays { get; init; } = 14;
    /// <summary>The profile store could not be reached: every slot gets its non-personal fallback.</summary>
    public bool ProfileUnavailable { get; init; }
    /// <summary>Categories the request boosts (<c>GET /v1/recommendations?boostCategories=</c>): drawn from the whole catalogue, listed first.</summary>
    public string[] Boost { get; set; } = [];

    /// <summary>What conditions read; made on first use, once per decide.</summary>
    public EvalContext Conditions => _conditions ??= new EvalContext(Profile, Request, Catalog, NowMs, Configuration.CompiledSegments, AffinityHalfLifeDays, Customers);

    /// <summary>The site's current RFM cut points and lifetime-value models.</summary>
    public Crm.CustomerModel? Customers { get; init; }

    /// <summary>With <c>explain=true</c>: the trace of the slot being decided, for strategies to add detail to.</summary>
    public List<TraceStep>? Trace { get; set; }

    private EvalContext? _conditions;

    public bool PersonalizationAllowed => Profile?.Preferences.PersonalizationEnabled ?? true;
}

public sealed record RecommendedItem(CatalogItem Item, double Score);

/// <summary>The answer for one slot: a variant (content slot) or items (recommendations slot), and where it came from.</summary>
public sealed class SlotDecision
{
    public required string SlotId { get; init; }
    public SlotVariant? Variant { get; init; }
    public IReadOnlyList<RecommendedItem>? Items { get; init; }
    /// <summary><c>rule:ID</c>, <c>experiment:ID/ARM</c>, <c>affinity</c>, <c>recs:VERSION</c>, <c>trending</c>, <c>default</c>, <c>fallback</c>.</summary>
    public required string Source { get; init; }
    public string? Reason { get; init; }
    /// <summary>For a fallback: the step of the chain that answered (<see cref="Configuration.FallbackSteps"/>).</summary>
    public string? FallbackStep { get; init; }
    public List<TraceStep>? Trace { get; set; }
}

/// <summary>One strategy tried for a slot, for <c>explain=true</c>.</summary>
public sealed record TraceStep(string Strategy, string Outcome, string? Detail = null);

public sealed class Decision
{
    public required string DecisionId { get; init; }
    public required IReadOnlyList<SlotDecision> Slots { get; init; }
    public required IReadOnlyList<string> UnknownSlots { get; init; }
    public int ConfigurationVersion { get; init; }
}
