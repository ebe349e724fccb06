using Personalizer.Engine.Catalog;
using Personalizer.Engine.Crm;
using Personalizer.Engine.Decisions;
using Personalizer.Engine.Profiles;

namespace Personalizer.Engine.Rules;

/// <summary>
/// What a condition reads: the profile, the request, the clock. One per decide; evaluating a compiled
/// condition against it allocates nothing (derived values such as the cart value are computed once
/// and kept here).
/// </summary>
public sealed class EvalContext
{
    private double _cartValue = double.NaN;
    private string? _topCategory;
    private double _topScore;
    private CustomerInsight? _insight;
    private string? _topBrand;
    private string? _topTag;
    private readonly sbyte[] _segments;

    public EvalContext(VisitorProfile? profile, RequestContext request, CatalogSnapshot catalog, long nowMs, CompiledSegments segments, double affinityHalfLifeDays = 14, CustomerModel? customers = null)
    {
        Customers = customers;
        Profile = profile;
        Request = request;
        Catalog = catalog;
        NowMs = nowMs;
        Now = DateTimeOffset.FromUnixTimeMilliseconds(nowMs).UtcDateTime;
        Segments = segments;
        AffinityHalfLifeMs = affinityHalfLifeDays * 86_400_000d;
        _segments = segments.Count == 0 ? [] : new sbyte[segments.Count];
        NowDate = Now.ToString("yyyy-MM-dd", System.Globalization.CultureInfo.InvariantCulture);
    }

    /// <summary>Today as YYYY-MM-DD, made once per context.</summary>
    public string NowDate { get; }

    public VisitorProfile? Profile { get; }
    public RequestContext Request { get; }
    public CatalogSnapshot Catalog { get; }
    public long NowMs { get; }
    public DateTime Now { get; }
    public CompiledSegments Segments { get; }
    public double AffinityHalfLifeMs { get; }
    public CustomerModel? Customers { get; }

    /// <summary>The catalogue item an item condition (<c>item.*</c>) is asked about; set around each evaluation.</summary>
    public CatalogItem? Item { get; private set; }

    /// <summary>Evaluates an item condition for one item.</summary>
    public bool Holds(CompiledCondition condition, CatalogItem item)
    {
        var previous = Item;
        Item = item;
        try
        {
            return condition.Evaluate(this);
        }
        finally
        {
            Item = previous;
        }
    }

    /// <summary>RFM, lifetime value and lifecycle stage, computed on first use.</summary>
    public CustomerInsight Insight => _insight ??= CustomerInsights.Of(Profile, Customers, NowMs);

    public string TopBrand => _topBrand ??= Top(Profile?.BrandAffinity);

    public string TopTag => _topTag ??= Top(Profile?.TagAffinity);

    public double CartValue
    {
        get
        {
            if (double.IsNaN(_cartValue))
            {
                var sum = 0d;
                foreach (var line in Profile?.Cart ?? [])
                {
                    sum += line.Price * line.Quantity;
                }
                _cartValue = sum;
            }
            return _cartValue;
        }
    }

    public string TopCategory
    {
        get
        {
            ComputeTop();
            return _topCategory!;
        }
    }

    public double TopCategoryScore
    {
        get
        {
            ComputeTop();
            return _topScore;
        }
    }

    internal bool Segment(int index)
    {
        var known = _segments[index];
        if (known != 0)
        {
            return known > 0;
        }
        var result = Segments[index].Evaluate(this);
        _segments[index] = result ? (sbyte)1 : (sbyte)-1;
        return result;
    }

    private string Top(List<CategoryAffinity>? affinity)
    {
        var best = "";
        var bestScore = 0d;
        foreach (var a in affinity ?? [])
        {
            var score = ProfileFolder.AffinityAt(a, NowMs, AffinityHalfLifeMs);
            if (score > bestScore || (score == bestScore && string.CompareOrdinal(a.Category, best) < 0))
            {
                bestScore = score;
                best = a.Category;
            }
        }
        return best;
    }

    private void ComputeTop()
    {
        if (_topCategory is not null)
        {
            return;
        }
        _topCategory = "";
        foreach (var a in Profile?.Affinity ?? [])
        {
            var score = ProfileFolder.AffinityAt(a, NowMs, AffinityHalfLifeMs);
            if (score > _topScore || (score == _topScore && string.CompareOrdinal(a.Category, _topCategory) < 0))
            {
                _topScore = score;
                _topCategory = a.Category;
            }
        }
    }
}
