namespace Personalizer.Engine.Pipeline;

/// <summary>
/// A feature's part of the log: the record types it owns, the handlers that apply them and the state it
/// keeps in checkpoints. Registered at start-up; the log itself knows none of them.
/// </summary>
public interface IProjection
{
    void Register(ProjectionRegistry registry);
}

/// <summary>In-memory state that a checkpoint saves beside the store (the store's own state is in its checkpoint).</summary>
public interface ICheckpointPart
{
    /// <summary>The part's name in the state snapshot; stable across versions.</summary>
    string Name { get; }

    /// <summary>Called by the applier between records: the state holds exactly the records applied so far.</summary>
    byte[] Save();

    /// <summary>The saved bytes, or null to start empty (no checkpoint, or the state is rebuilt by replay from the log's start).</summary>
    void Load(ReadOnlyMemory<byte>? saved);
}

/// <summary>What every projection registered: record types by tag, a handler per type, checkpoint parts.</summary>
public sealed class ProjectionRegistry
{
    private readonly Dictionary<Type, Func<LogRecord, long, ValueTask<ApplyOutcome>>> _handlers = [];
    private readonly HashSet<Type> _shared = [];
    private readonly Dictionary<string, ICheckpointPart> _parts = new(StringComparer.Ordinal);
    private readonly List<Action<bool>> _idle = [];
    private readonly List<ICheckpointPart> _sharedParts = [];

    public ProjectionRegistry(IEnumerable<IProjection> projections)
    {
        foreach (var projection in projections)
        {
            projection.Register(this);
        }
    }

    public RecordTypes Types { get; } = new();

    /// <summary>
    /// True while the ledger re-applies records to a store that came back from an outage (a failover may have
    /// lost writes it had acknowledged): projections write to the store as ever, guarded by sequence numbers,
    /// but leave their in-memory state alone, which already holds those records.
    /// </summary>
    public bool Repairing { get; internal set; }

    public IReadOnlyCollection<ICheckpointPart> Parts => _parts.Values;

    /// <summary>
    /// A record type and its handler. <paramref name="shared"/>: state every node holds the same (catalogue,
    /// configuration, models): on a shared store it is ordered by the change feed instead of this node's log.
    /// </summary>
    public void Handle<T>(int tag, Func<T, long, ValueTask<ApplyOutcome>> apply, bool shared = false) where T : LogRecord
    {
        Types.Register<T>(tag);
        _handlers[typeof(T)] = (record, seq) => apply((T)record, seq);
        if (shared)
        {
            _shared.Add(typeof(T));
        }
    }

    /// <summary>A checkpoint part; <paramref name="shared"/>: rebuilt from the change feed on a shared store.</summary>
    public void Part(ICheckpointPart part, bool shared = false)
    {
        if (!_parts.TryAdd(part.Name, part))
        {
            throw new InvalidOperationException($"Checkpoint part '{part.Name}' is registered twice.");
        }
        if (shared)
        {
            _sharedParts.Add(part);
        }
    }

    public IReadOnlyList<ICheckpointPart> SharedParts => _sharedParts;

    /// <summary>Runs after each group of applied records (and with <c>true</c> after replay): a place to publish what changed.</summary>
    public void WhenIdle(Action<bool> action) => _idle.Add(action);

    public bool IsShared(LogRecord record) => _shared.Contains(record.GetType());

    public ValueTask<ApplyOutcome> ApplyAsync(LogRecord record, long seq) =>
        _handlers.TryGetValue(record.GetType(), out var handler) ? handler(record, seq) : ValueTask.FromResult(new ApplyOutcome());

    internal void Idle(bool force)
    {
        foreach (var action in _idle)
        {
            action(force);
        }
    }
}
