using System.Collections.Concurrent;
using System.IO.Hashing;
using System.Text;
using MessagePack;
using Personalizer.Engine.Catalog;
using Personalizer.Engine.Configuration;
using Personalizer.Engine.Crm;
using Personalizer.Engine.Decisions;
using Personalizer.Engine.Events;
using Personalizer.Engine.Pipeline;
using Personalizer.Engine.Profiles;
using Personalizer.Engine.Rules;

namespace Personalizer.Engine.Triggers;

/// <summary>A message waiting for its time (or for its webhook to answer).</summary>
[MessagePackObject]
public sealed class PendingMessage
{
    [Key(0)] public string Site { get; set; } = "";
    [Key(1)] public string Trigger { get; set; } = "";
    [Key(2)] public string VisitorId { get; set; } = "";
    [Key(3)] public string? CustomerId { get; set; }
    [Key(4)] public string[] Items { get; set; } = [];
    /// <summary>Unix ms when it is due.</summary>
    [Key(5)] public long DueAt { get; set; }
    /// <summary>The same for every delivery attempt of this message: the receiver's deduplication key.</summary>
    [Key(6)] public string IdempotencyKey { get; set; } = "";
    [Key(7)] public int Attempts { get; set; }
    /// <summary>Unix ms of the next attempt after a failed one.</summary>
    [Key(8)] public long NextAttemptAt { get; set; }
    /// <summary>The event that started it (its type and id).</summary>
    [Key(9)] public string StartedBy { get; set; } = "";
}

/// <summary>
/// The waiting messages of every site, fed by the ledger's applier as events are folded (in log order,
/// so replay after a crash rebuilds them) and saved with each checkpoint. A start event whose
/// condition holds (re)starts the wait; a cancelling event removes the message; a visitor who refused
/// tracking starts nothing. <see cref="TriggerDispatcher"/> sends what is due.
/// </summary>
public sealed class TriggerScheduler(ConfigurationStore configuration, CustomerModels customers, ProfileOptions options) : ProfileObserver, IProjection, ICheckpointPart
{
    private readonly ConcurrentDictionary<(string Site, string Trigger, string Visitor), PendingMessage> _pending = new();

    public int Count => _pending.Count;

    public IEnumerable<PendingMessage> Pending => _pending.Values;

    public string Name => "triggers";

    public void Register(ProjectionRegistry registry) => registry.Part(this);

    public byte[] Save() => MessagePackSerializer.Serialize(_pending.Values.ToArray());

    public void Load(ReadOnlyMemory<byte>? saved) => Restore(saved is { } bytes ? MessagePackSerializer.Deserialize<PendingMessage[]>(bytes) : []);

    /// <summary>Called by the applier with each folded event and the visitor's profile after it.</summary>
    public override void Applied(string site, TrackedEvent e, VisitorProfile holder, CatalogSnapshot catalog)
    {
        var profile = holder;
        var triggers = configuration.Current(site).CompiledTriggers;
        if (triggers.Length == 0)
        {
            return;
        }
        var type = EventTypes.Name(e.Type);
        EvalContext? conditions = null;
        foreach (var trigger in triggers)
        {
            var t = trigger.Definition;
            var key = (site, t.Id, profile.VisitorId);
            if (t.CancelOn == type)
            {
                _pending.TryRemove(key, out _);
            }
            if (t.Event != type || profile.Preferences.Tracking == TrackingConsent.Denied)
            {
                continue;
            }
            conditions ??= new EvalContext(profile, RequestContext.Empty, catalog, e.Timestamp, configuration.Current(site).CompiledSegments,
                options.AffinityHalfLifeDays, customers.Current(site));
            if (trigger.Condition is { } condition && !condition.Evaluate(conditions))
            {
                continue;
            }
            _pending[key] = new PendingMessage
            {
                Site = site,
                Trigger = t.Id,
                VisitorId = profile.VisitorId,
                CustomerId = profile.CustomerId,
                Items = Items(e, profile),
                DueAt = e.Timestamp + (long)(t.WaitMinutes * 60_000),
                IdempotencyKey = Key(site, t.Id, profile.VisitorId, e.EventId),
                StartedBy = $"{type}:{e.EventId}",
            };
        }
    }

    /// <summary>The items the message is about: the cart, else the event's items.</summary>
    private static string[] Items(TrackedEvent e, VisitorProfile profile)
    {
        if (profile.Cart.Count > 0)
        {
            return [.. profile.Cart.Select(l => l.ItemId)];
        }
        if (e.Lines is { Length: > 0 } lines)
        {
            return [.. lines.Select(l => l.ItemId)];
        }
        return e.ItemId is { } item ? [item] : [];
    }

    private static string Key(string site, string trigger, string visitor, string eventId) =>
        Convert.ToHexStringLower(XxHash128.Hash(Encoding.UTF8.GetBytes($"{site}\n{trigger}\n{visitor}\n{eventId}")));

    /// <summary>Messages due at <paramref name="nowMs"/> (and whose last failed attempt has waited long enough).</summary>
    public List<PendingMessage> Due(long nowMs) =>
        [.. _pending.Values.Where(m => m.DueAt <= nowMs && m.NextAttemptAt <= nowMs).OrderBy(m => m.DueAt)];

    /// <summary>Removes a message once delivered (or given up), unless a newer start replaced it meanwhile.</summary>
    public void Done(PendingMessage message) =>
        _pending.TryRemove(new KeyValuePair<(string, string, string), PendingMessage>((message.Site, message.Trigger, message.VisitorId), message));

    /// <summary>Forgets a visitor's messages (erasure, tracking refused).</summary>
    public override void Forgotten(string site, string visitorId)
    {
        foreach (var key in _pending.Keys)
        {
            if (key.Site == site && key.Visitor == visitorId)
            {
                _pending.TryRemove(key, out _);
            }
        }
    }

    internal void Restore(PendingMessage[] messages)
    {
        _pending.Clear();
        foreach (var m in messages)
        {
            _pending[(m.Site, m.Trigger, m.VisitorId)] = m;
        }
    }
}
