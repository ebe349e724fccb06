using MessagePack;
using Personalizer.Engine.Catalog;
using Personalizer.Engine.Events;
using Personalizer.Engine.Pipeline;
using Personalizer.Engine.Profiles;

namespace Personalizer.Engine.Recommendations;

/// <summary>Trending as a projection: fed with every applied event, kept in checkpoints, published when the applier is idle.</summary>
public sealed class TrendingProjection(TrendingTracker trending) : ProfileObserver, IProjection, ICheckpointPart
{
    public string Name => "trending";

    public void Register(ProjectionRegistry registry)
    {
        registry.Part(this);
        registry.WhenIdle(force => trending.Publish(force));
    }

    public override void Applied(string site, TrackedEvent e, VisitorProfile holder, CatalogSnapshot catalog)
    {
        var weight = TrendingTracker.Weight(e.Type);
        if (weight <= 0)
        {
            return;
        }
        if (e.Type == EventType.Purchase)
        {
            foreach (var line in e.Lines ?? [])
            {
                trending.Record(site, line.ItemId, weight, e.Timestamp);
            }
        }
        else if (e.ItemId is not null)
        {
            trending.Record(site, e.ItemId, weight, e.Timestamp);
        }
    }

    public byte[] Save() => MessagePackSerializer.Serialize(trending.Snapshot());

    public void Load(ReadOnlyMemory<byte>? saved) =>
        trending.Restore(saved is { } bytes ? MessagePackSerializer.Deserialize<Dictionary<string, StoredTrending>>(bytes) : []);
}
