using MessagePack;
using Personalizer.Engine.Pipeline;

namespace Personalizer.Engine.Configuration;

[MessagePackObject]
public sealed class ConfigChangeRecord(string site, ConfigChange change) : LogRecord
{
    [Key(0)] public string SiteId { get; } = site;
    [Key(1)] public ConfigChange Change { get; } = change;
    [IgnoreMember] public override string Site => SiteId;
}

/// <summary>Versioned configuration as a projection: every change from the log (or the change feed), the history kept in checkpoints.</summary>
public sealed class ConfigurationProjection(ConfigurationStore configuration) : IProjection, ICheckpointPart
{
    /// <summary>Stored log tag: never renumber.</summary>
    private const int ChangeTag = 4;

    public string Name => "configuration";

    public void Register(ProjectionRegistry registry)
    {
        registry.Handle<ConfigChangeRecord>(ChangeTag, Apply, shared: true);
        registry.Part(this, shared: true);
    }

    private ValueTask<ApplyOutcome> Apply(ConfigChangeRecord r, long seq)
    {
        var result = configuration.Apply(r.SiteId, r.Change);
        return ValueTask.FromResult(new ApplyOutcome { Applied = result.Status == ConfigChangeStatus.Applied ? 1 : 0, Detail = result });
    }

    public byte[] Save() => MessagePackSerializer.Serialize(configuration.Snapshot());

    public void Load(ReadOnlyMemory<byte>? saved) =>
        configuration.Restore(saved is { } bytes ? MessagePackSerializer.Deserialize<Dictionary<string, StoredConfigurationVersion[]>>(bytes) : []);
}
