using System.Collections.Concurrent;

namespace Personalizer.Engine.Triggers;

/// <summary>One attempt to deliver a message: what the receiver answered, or why it could not be reached.</summary>
public sealed record DeliveryAttempt(
    string Id, string Trigger, string VisitorId, int Attempt, DateTimeOffset At, string Status, int? HttpStatus, string? Error, DateTimeOffset? NextAttemptAt, bool Test);

/// <summary>
/// The latest delivery attempts of each site (at most <see cref="Capacity"/>, newest first), kept in
/// memory for the console: operations, not history (the receiver's own log is the record).
/// </summary>
public sealed class TriggerDeliveries
{
    public const int Capacity = 200;
    private readonly ConcurrentDictionary<string, LinkedList<DeliveryAttempt>> _bySite = new(StringComparer.Ordinal);

    public void Add(string site, DeliveryAttempt attempt)
    {
        var list = _bySite.GetOrAdd(site, _ => new LinkedList<DeliveryAttempt>());
        lock (list)
        {
            list.AddFirst(attempt);
            while (list.Count > Capacity)
            {
                list.RemoveLast();
            }
        }
    }

    public IReadOnlyList<DeliveryAttempt> Latest(string site, string? trigger = null)
    {
        if (!_bySite.TryGetValue(site, out var list))
        {
            return [];
        }
        lock (list)
        {
            return [.. list.Where(a => trigger is null || a.Trigger == trigger)];
        }
    }
}
