using Personalizer.Engine.Events;
using Personalizer.Engine.Pipeline;
using Personalizer.Engine.Profiles;

namespace Personalizer.Engine.Archive;

/// <summary>
/// The whole history of a site for those who learn from it (training, CRM refits, export): the archive's
/// events of every node, then this node's log after the archived position. Erased visitors are left out
/// wherever they still are (pending erasures, erasures in the tail), and a visitor who denied tracking
/// comes with that denial, as in the log. An event id counts once per visitor (the first), as the service counts it. Records come as the log's own record types, so a reader treats
/// both parts alike.
/// </summary>
public sealed class EventHistory(EventArchive archive, IArchivePosition archiver, IEventLog log, RecordTypes types, LogNode node)
{
    private const int BatchSize = 1024;

    /// <summary>
    /// Everything history holds about one visitor (and the visitor ids merged into them): events, each id
    /// once, and the slots of the decisions served, archived and in the log's tail, in time order. For export.
    /// </summary>
    public (List<TrackedEvent> Events, List<ArchivedDecision> Decisions) ReadVisitor(string site, IReadOnlyCollection<string> visitorIds, CancellationToken ct = default)
    {
        using var lease = archiver.BeginRead();
        var (events, decisions) = archive.ReadVisitor(site, visitorIds);
        var ids = visitorIds.ToHashSet(StringComparer.Ordinal);
        var seen = events.Select(e => (e.VisitorId, e.EventId)).ToHashSet();
        foreach (var (seq, record) in LogReader.Read(log, types, Math.Max(lease.Address, log.BeginAddress), ct: ct))
        {
            if (seq <= lease.Seq || record.Site != site)
            {
                continue;
            }
            if (record is EventBatchRecord batch)
            {
                events.AddRange(batch.Events.Where(e => ids.Contains(e.VisitorId) && seen.Add((e.VisitorId, e.EventId))));
            }
            else if (record is ImpressionBatchRecord impressions)
            {
                foreach (var impression in impressions.Impressions)
                {
                    if (ids.Contains(impression.VisitorId) && impression.Consent != TrackingConsent.Denied)
                    {
                        decisions.AddRange(impression.Slots.Select(s => new ArchivedDecision(impression.DecisionId, impression.At, s.SlotId, s.Variant, s.Source, s.Items)));
                    }
                }
            }
        }
        return ([.. events.OrderBy(e => e.Timestamp)], [.. decisions.OrderBy(d => d.At)]);
    }

    /// <summary>The records, each with its sequence number; archived ones carry the archive's position (all of them are at or before it).</summary>
    public IEnumerable<(long Seq, LogRecord Record)> Read(string? site, CancellationToken ct = default) =>
        Read(site, (pending, seq) => ArchivedEvents(site, pending, seq, ct), ct);

    /// <summary>
    /// As <see cref="Read"/>, but the archive's events come summed per visitor (<see cref="EventArchive.ReadActivity"/>),
    /// at the point where <see cref="Read"/> would give them: erasures and denials first, the log's tail after.
    /// For readers who need counts, not events (the customer models): two million events are not read back one by one.
    /// </summary>
    public IEnumerable<(long Seq, LogRecord Record)> ReadSummarized(string? site, Action<ArchivedActivity> visitor, Action<ArchivedPurchaseDay> purchaseDay, CancellationToken ct = default) =>
        Read(site, (pending, seq) =>
        {
            archive.ReadActivity(site, pending, node.Id, seq, visitor, purchaseDay, ct);
            return [];
        }, ct);

    private IEnumerable<(long Seq, LogRecord Record)> ArchivedEvents(string? site, IReadOnlyCollection<(string Site, string Visitor)> pending, long archivedSeq, CancellationToken ct)
    {
        string? current = null;
        var events = new List<TrackedEvent>(BatchSize);
        foreach (var (s, e) in archive.ReadEvents(site, pending, node.Id, archivedSeq, ct))
        {
            if ((current is not null && s != current) || events.Count == BatchSize)
            {
                yield return (archivedSeq, new EventBatchRecord(current!, [.. events]));
                events.Clear();
            }
            current = s;
            events.Add(e);
        }
        if (events.Count > 0)
        {
            yield return (archivedSeq, new EventBatchRecord(current!, [.. events]));
        }
    }

    private IEnumerable<(long Seq, LogRecord Record)> Read(string? site, Func<IReadOnlyCollection<(string Site, string Visitor)>, long, IEnumerable<(long Seq, LogRecord Record)>> archived, CancellationToken ct)
    {
        using var lease = archiver.BeginRead();
        var tail = Math.Max(lease.Address, log.BeginAddress);
        // Erasures not archived yet reach the archive's rows too: the tail is read once for them first.
        var pending = new List<(string Site, string Visitor)>(archiver.PendingErasures);
        var tailKeys = new List<(string Site, string Visitor, string EventId)>();
        foreach (var (seq, record) in LogReader.Read(log, types, tail, ct: ct))
        {
            if (seq <= lease.Seq || (site is not null && record.Site != site))
            {
                continue;
            }
            if (record is EraseProfileRecord erase)
            {
                pending.Add((erase.SiteId, erase.VisitorId));
            }
            else if (record is EventBatchRecord batch)
            {
                foreach (var e in batch.Events)
                {
                    tailKeys.Add((batch.SiteId, e.VisitorId, e.EventId));
                }
            }
        }
        // An event id seen before (a client's retry, logged again and answered as a duplicate) counts once.
        var seen = archive.Existing(tailKeys);
        foreach (var (s, visitor) in archiver.PendingErasures)
        {
            if (site is null || s == site)
            {
                yield return (lease.Seq, new EraseProfileRecord(s, visitor, 0));
            }
        }
        foreach (var (s, visitor) in archive.TrackingDenied(site))
        {
            yield return (lease.Seq, new PreferencesRecord(s, visitor, new VisitorPreferences { Tracking = TrackingConsent.Denied }));
        }
        foreach (var entry in archived(pending, lease.Seq))
        {
            yield return entry;
        }
        foreach (var (seq, record) in LogReader.Read(log, types, tail, ct: ct))
        {
            if (seq <= lease.Seq || (site is not null && record.Site != site))
            {
                continue;
            }
            if (record is EventBatchRecord batch)
            {
                var first = batch.Events.Where(e => seen.Add((batch.SiteId, e.VisitorId, e.EventId))).ToArray();
                if (first.Length > 0)
                {
                    yield return (seq, first.Length == batch.Events.Length ? batch : new EventBatchRecord(batch.SiteId, first));
                }
            }
            else
            {
                yield return (seq, record);
            }
        }
    }
}
