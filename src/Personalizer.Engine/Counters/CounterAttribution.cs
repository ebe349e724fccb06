using Personalizer.Engine.Configuration;
using Personalizer.Engine.Crm;
using Personalizer.Engine.Events;
using Personalizer.Engine.Pipeline;
using Personalizer.Engine.Profiles;

namespace Personalizer.Engine.Counters;

/// <summary>
/// Counts as records are applied, attributing at fold time from the visitor's attribution memory:
/// <list type="bullet">
/// <item>an impression counts for its slot, variant and source on its day, and becomes the slot's latest
/// impression; an impression from an experiment exposes the visitor to that run of it once, with its arm;</item>
/// <item>a <c>slot_click</c> counts for the slot's latest impression at or before it (with the clicked variant);</item>
/// <item>a purchase counts as a conversion, with its revenue, for every slot last shown within
/// <see cref="AttributionHours"/> before it;</item>
/// <item>a goal event within an exposure's attribution window converts the visitor (once), and a purchase in
/// the window adds its revenue to the arm.</item>
/// </list>
/// Clicks and purchases count on their own day. The deltas of a record are written before its profiles.
/// </summary>
public sealed class CounterAttribution(ICounterStore counters, ConfigurationStore configuration, LogNode node, CustomerModels customers) : ProfileObserver
{
    public const double AttributionHours = 24;
    private const long WindowMs = (long)(AttributionHours * 3_600_000);
    private const string ExperimentPrefix = "experiment:";

    private readonly Dictionary<string, CounterDelta> _pending = new(StringComparer.Ordinal);
    private readonly Dictionary<string, HashSet<string>> _indexed = new(StringComparer.Ordinal); // per site: slots known to be in the index
    private readonly List<string> _indexing = []; // slots this attempt adds to the index

    public override void Begin(string site, long seq)
    {
        _pending.Clear();
        _indexing.Clear();
    }

    public override void Showing(string site, Impression impression, VisitorProfile holder)
    {
        var memory = holder.Attribution ??= new AttributionMemory();
        var day = CounterKeys.Day(impression.At);
        var insight = CustomerInsights.Of(holder, customers.Current(site), impression.At);
        var stage = insight.Lifecycle;
        var segment = insight.Rfm?.Segment ?? CounterKeys.NoSegment;
        foreach (var slot in impression.Slots)
        {
            var variant = CounterKeys.ReportedVariant(slot.Variant);
            var source = CounterKeys.ReportedSource(slot.Source);
            AddGrouped(CounterKeys.Slot(slot.SlotId, day), stage, segment, CounterKeys.Field(variant, source, CounterKeys.Impressions), 1);
            Index(site, slot.SlotId);
            Remember(memory, slot.SlotId, variant, source, impression.At, stage, segment);
            if (slot.Source.StartsWith(ExperimentPrefix, StringComparison.Ordinal))
            {
                Expose(site, memory, slot.Source.AsSpan(ExperimentPrefix.Length), impression.At, stage, segment);
            }
        }
    }

    public override void Folding(string site, TrackedEvent e, VisitorProfile holder)
    {
        if (holder.Attribution is not { } memory)
        {
            return;
        }
        if (e.Type == EventType.SlotClick && e.SlotId is { } clicked
            && memory.Shown.Find(s => s.SlotId == clicked) is { } shown && shown.At <= e.Timestamp)
        {
            AddGrouped(CounterKeys.Slot(clicked, CounterKeys.Day(e.Timestamp)), shown.Stage, shown.Segment, CounterKeys.Field(e.Variant ?? shown.Variant, shown.Source, CounterKeys.Clicks), 1);
        }
        if (e.Type == EventType.Purchase)
        {
            var day = CounterKeys.Day(e.Timestamp);
            foreach (var s in memory.Shown)
            {
                if (s.At <= e.Timestamp && s.At >= e.Timestamp - WindowMs)
                {
                    var key = CounterKeys.Slot(s.SlotId, day);
                    AddGrouped(key, s.Stage, s.Segment, CounterKeys.Field(s.Variant, s.Source, CounterKeys.Conversions), 1);
                    AddGrouped(key, s.Stage, s.Segment, CounterKeys.Field(s.Variant, s.Source, CounterKeys.Revenue), e.Revenue);
                }
            }
        }
        if (memory.Exposures.Count == 0)
        {
            return;
        }
        var experiments = configuration.Current(site).Experiments;
        foreach (var exposure in memory.Exposures)
        {
            if (!experiments.TryGetValue(exposure.Experiment, out var experiment) || experiment.StartedAt != exposure.StartedAt
                || e.Timestamp < exposure.At || e.Timestamp > exposure.At + (long)(experiment.AttributionHours * 3_600_000))
            {
                continue;
            }
            var key = CounterKeys.Experiment(exposure.Experiment, exposure.StartedAt);
            if (!exposure.Converted && EventTypes.TryParse(experiment.Goal, out var goal) && goal == e.Type)
            {
                exposure.Converted = true;
                AddGrouped(key, exposure.Stage, exposure.Segment, CounterKeys.ArmField(exposure.Arm, CounterKeys.Converted), 1);
            }
            if (e.Type == EventType.Purchase && e.Revenue != 0)
            {
                AddGrouped(key, exposure.Stage, exposure.Segment, CounterKeys.ArmField(exposure.Arm, CounterKeys.Revenue), e.Revenue);
                AddGrouped(key, exposure.Stage, exposure.Segment, CounterKeys.ArmField(exposure.Arm, CounterKeys.RevenueSquared), (2 * exposure.Revenue * e.Revenue) + (e.Revenue * e.Revenue));
                exposure.Revenue += e.Revenue;
            }
        }
    }

    /// <summary>An erased visitor leaves the experiments they were in: one exposed visitor less, their conversion and revenue taken back.</summary>
    public override void Erasing(string site, VisitorProfile holder)
    {
        if (holder.Attribution is not { } memory)
        {
            return;
        }
        foreach (var exposure in memory.Exposures)
        {
            var key = CounterKeys.Experiment(exposure.Experiment, exposure.StartedAt);
            AddGrouped(key, exposure.Stage, exposure.Segment, CounterKeys.ArmField(exposure.Arm, CounterKeys.Exposed), -1);
            if (exposure.Converted)
            {
                AddGrouped(key, exposure.Stage, exposure.Segment, CounterKeys.ArmField(exposure.Arm, CounterKeys.Converted), -1);
            }
            if (exposure.Revenue != 0)
            {
                AddGrouped(key, exposure.Stage, exposure.Segment, CounterKeys.ArmField(exposure.Arm, CounterKeys.Revenue), -exposure.Revenue);
                AddGrouped(key, exposure.Stage, exposure.Segment, CounterKeys.ArmField(exposure.Arm, CounterKeys.RevenueSquared), -(exposure.Revenue * exposure.Revenue));
            }
        }
    }

    public override async ValueTask FlushAsync(string site, long seq)
    {
        if (_pending.Count == 0)
        {
            return;
        }
        await counters.AddAsync(site, _pending.Values, node.Id, seq).ConfigureAwait(false);
        _pending.Clear();
        if (_indexing.Count > 0)
        {
            Known(site).UnionWith(_indexing);
            _indexing.Clear();
        }
    }

    private void Expose(string site, AttributionMemory memory, ReadOnlySpan<char> experimentAndArm, long at, string stage, string segment)
    {
        var slash = experimentAndArm.IndexOf('/');
        if (slash <= 0)
        {
            return;
        }
        var id = experimentAndArm[..slash].ToString();
        if (!configuration.Current(site).Experiments.TryGetValue(id, out var experiment)
            || memory.Exposures.Exists(x => x.Experiment == id && x.StartedAt == experiment.StartedAt))
        {
            return;
        }
        var arm = experimentAndArm[(slash + 1)..].ToString();
        memory.Exposures.Add(new Exposure { Experiment = id, StartedAt = experiment.StartedAt, Arm = arm, At = at, Stage = stage, Segment = segment });
        if (memory.Exposures.Count > AttributionMemory.MaxExposures)
        {
            memory.Exposures.RemoveAt(Oldest(memory.Exposures, x => x.At));
        }
        AddGrouped(CounterKeys.Experiment(id, experiment.StartedAt), stage, segment, CounterKeys.ArmField(arm, CounterKeys.Exposed), 1);
    }

    private static void Remember(AttributionMemory memory, string slotId, string variant, string source, long at, string stage, string segment)
    {
        var i = memory.Shown.FindIndex(s => s.SlotId == slotId);
        if (i >= 0)
        {
            if (memory.Shown[i].At <= at)
            {
                memory.Shown[i] = new ShownSlot { SlotId = slotId, Variant = variant, Source = source, At = at, Stage = stage, Segment = segment };
            }
            return;
        }
        memory.Shown.Add(new ShownSlot { SlotId = slotId, Variant = variant, Source = source, At = at, Stage = stage, Segment = segment });
        if (memory.Shown.Count > AttributionMemory.MaxSlots)
        {
            memory.Shown.RemoveAt(Oldest(memory.Shown, s => s.At));
        }
    }

    private static int Oldest<T>(List<T> list, Func<T, long> at)
    {
        var oldest = 0;
        for (var i = 1; i < list.Count; i++)
        {
            if (at(list[i]) < at(list[oldest]))
            {
                oldest = i;
            }
        }
        return oldest;
    }

    /// <summary>A slot enters the site's index once (per process: adding a known slot again changes nothing).</summary>
    private void Index(string site, string slotId)
    {
        if (!Known(site).Contains(slotId) && !_indexing.Contains(slotId))
        {
            _indexing.Add(slotId);
            Add(CounterKeys.SlotIndex, slotId, 0);
        }
    }

    private HashSet<string> Known(string site)
    {
        if (!_indexed.TryGetValue(site, out var known))
        {
            _indexed[site] = known = new HashSet<string>(StringComparer.Ordinal);
        }
        return known;
    }

    /// <summary>Adds to the bag and to its stage and segment groups (remembered before the breakdown existed: the bag only).</summary>
    private void AddGrouped(string key, string? stage, string? segment, string field, double value)
    {
        Add(key, field, value);
        if (stage is not null)
        {
            Add(CounterKeys.By(key, CounterKeys.ByStage, stage), field, value);
        }
        if (segment is not null)
        {
            Add(CounterKeys.By(key, CounterKeys.BySegment, segment), field, value);
        }
    }

    private void Add(string key, string field, double value)
    {
        if (!_pending.TryGetValue(key, out var delta))
        {
            _pending[key] = delta = new CounterDelta(key);
        }
        delta.Add(field, value);
    }
}
