using MessagePack;
using Personalizer.Engine.Pipeline;

namespace Personalizer.Engine.Catalog;

[MessagePackObject]
public sealed class CatalogUpsertRecord(string site, CatalogItem[] items) : LogRecord
{
    [Key(0)] public string SiteId { get; } = site;
    [Key(1)] public CatalogItem[] Items { get; } = items;
    [IgnoreMember] public override string Site => SiteId;
}

/// <summary>The catalogue as a projection: upserts from the log (or the change feed of a shared store), kept in checkpoints.</summary>
public sealed class CatalogProjection(CatalogStore catalog) : IProjection, ICheckpointPart
{
    /// <summary>Stored log tag: never renumber.</summary>
    private const int UpsertTag = 3;
    private const int ChangeTag = 10;

    public string Name => "catalog";

    public void Register(ProjectionRegistry registry)
    {
        registry.Handle<CatalogUpsertRecord>(UpsertTag, Apply, shared: true);
        registry.Handle<CatalogChangeRecord>(ChangeTag, Apply, shared: true);
        registry.Part(this, shared: true);
    }

    private ValueTask<ApplyOutcome> Apply(CatalogUpsertRecord r, long seq)
    {
        catalog.Upsert(r.SiteId, r.Items);
        return ValueTask.FromResult(new ApplyOutcome { Applied = r.Items.Length });
    }

    private ValueTask<ApplyOutcome> Apply(CatalogChangeRecord r, long seq) =>
        ValueTask.FromResult(new ApplyOutcome { Applied = catalog.Change(r.SiteId, r.ItemId, r.Patch, r.At) ? 1 : 0 });

    public byte[] Save() => MessagePackSerializer.Serialize(catalog.Snapshot());

    public void Load(ReadOnlyMemory<byte>? saved) =>
        catalog.Restore(saved is { } bytes ? MessagePackSerializer.Deserialize<Dictionary<string, CatalogItem[]>>(bytes) : []);
}
