using MessagePack;
using Personalizer.Engine.Pipeline;

namespace Personalizer.Engine.Sites;

public enum SiteChangeKind : byte
{
    /// <summary>Create a site, or set its origins and rate limit.</summary>
    Put = 1,
    /// <summary>A new key (only its hash is kept).</summary>
    AddKey = 2,
    /// <summary>A key refused from now on.</summary>
    RevokeKey = 3,
}

/// <summary>A change of a site made at runtime (<c>/v1/sites</c>): shared by every node, through the change feed.</summary>
[MessagePackObject]
public sealed class SiteChangeRecord : LogRecord
{
    [Key(0)] public string SiteId { get; init; } = "";
    [Key(1)] public SiteChangeKind Kind { get; init; }
    [Key(2)] public string[]? Origins { get; init; }
    [Key(3)] public int PerSecond { get; init; }
    [Key(4)] public int Burst { get; init; }
    [Key(5)] public string? KeyId { get; init; }
    /// <summary>SHA-256 of the key, hex; the key itself is never stored.</summary>
    [Key(6)] public string? KeyHash { get; init; }
    [Key(7)] public KeyRole Role { get; init; }
    [Key(8)] public long At { get; init; }
    [Key(9)] public string? Author { get; init; }
    [IgnoreMember] public override string Site => SiteId;
}

/// <summary>A site as made at runtime, kept in checkpoints.</summary>
[MessagePackObject]
public sealed class RuntimeSite
{
    [Key(0)] public string Id { get; set; } = "";
    [Key(1)] public string[] Origins { get; set; } = [];
    [Key(2)] public int PerSecond { get; set; }
    [Key(3)] public int Burst { get; set; }
    [Key(4)] public List<RuntimeKey> Keys { get; set; } = [];
    [Key(5)] public long CreatedAt { get; set; }
}

[MessagePackObject]
public sealed class RuntimeKey
{
    [Key(0)] public string Id { get; set; } = "";
    [Key(1)] public string Hash { get; set; } = "";
    [Key(2)] public KeyRole Role { get; set; }
    [Key(3)] public long CreatedAt { get; set; }
    /// <summary>When it was revoked; 0 while it is valid.</summary>
    [Key(4)] public long RevokedAt { get; set; }
}

/// <summary>Sites made at runtime as a shared projection: applied from the change feed on every node, kept in checkpoints.</summary>
public sealed class SiteProjection(ApiKeyRegistry keys) : IProjection, ICheckpointPart
{
    /// <summary>Stored log tag: never renumber.</summary>
    private const int ChangeTag = 9;

    public string Name => "sites";

    public void Register(ProjectionRegistry registry)
    {
        registry.Handle<SiteChangeRecord>(ChangeTag, Apply, shared: true);
        registry.Part(this, shared: true);
    }

    private ValueTask<ApplyOutcome> Apply(SiteChangeRecord r, long seq) =>
        ValueTask.FromResult(new ApplyOutcome { Applied = keys.Apply(r) ? 1 : 0, Found = true });

    public byte[] Save() => MessagePackSerializer.Serialize(keys.RuntimeSnapshot());

    public void Load(ReadOnlyMemory<byte>? saved) =>
        keys.RestoreRuntime(saved is { } bytes ? MessagePackSerializer.Deserialize<List<RuntimeSite>>(bytes) : []);
}
