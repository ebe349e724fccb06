namespace Personalizer.Engine.Pipeline;

/// <summary>
/// How changes of shared state (catalogue, configuration, model versions) reach every node, in one
/// order. On one node it is the ledger itself; on a shared store it is a Redis stream every node reads
/// (Storage/Redis), so a rule saved on one node is used by all within a second.
/// </summary>
public interface IChangeFeed
{
    /// <summary>Orders the change among all others, applies it here, and reports what applying it did.</summary>
    Task<ApplyOutcome> SubmitAsync(LogRecord record, CancellationToken ct = default);

    /// <summary>
    /// True when this node may run a job that only one node should run (seeding, periodic training):
    /// always on one node; on a shared store, the holder of a lease (<paramref name="lease"/> null: for good).
    /// </summary>
    Task<bool> TryLeadAsync(string job, TimeSpan? lease, CancellationToken ct = default);

    /// <summary>Catches up with the changes made so far (before the node takes traffic) and follows new ones.</summary>
    Task StartAsync(CancellationToken ct);

    Task StopAsync(CancellationToken ct);
}

/// <summary>One node: shared state changes through the node's own durable log.</summary>
public sealed class LocalChangeFeed(Ledger ledger) : IChangeFeed
{
    public Task<ApplyOutcome> SubmitAsync(LogRecord record, CancellationToken ct = default) => ledger.SubmitAsync(record, ct);

    public Task<bool> TryLeadAsync(string job, TimeSpan? lease, CancellationToken ct = default) => Task.FromResult(true);

    public Task StartAsync(CancellationToken ct) => Task.CompletedTask;

    public Task StopAsync(CancellationToken ct) => Task.CompletedTask;
}
