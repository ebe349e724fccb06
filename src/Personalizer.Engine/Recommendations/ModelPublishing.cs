using MessagePack;
using Personalizer.Engine.Pipeline;

namespace Personalizer.Engine.Recommendations;

/// <summary>A site's new model version, published to every node through the change feed (the bytes live beside it).</summary>
[MessagePackObject]
public sealed class ModelPublishedRecord(string site, string version) : LogRecord
{
    [Key(0)] public string SiteId { get; } = site;
    [Key(1)] public string Version { get; } = version;
    [IgnoreMember] public override string Site => SiteId;
}

/// <summary>Makes a freshly trained model the current one on every node.</summary>
public interface IModelPublisher
{
    Task PublishAsync(RecommendationModel model, CancellationToken ct = default);
}

/// <summary>One node: the registry is all there is.</summary>
public sealed class LocalModelPublisher(ModelRegistry models) : IModelPublisher
{
    public Task PublishAsync(RecommendationModel model, CancellationToken ct = default)
    {
        models.Publish(model);
        return Task.CompletedTask;
    }
}

/// <summary>
/// Registers the model record (stored tag 7). It only travels through a shared store's change feed,
/// whose reader fetches the named model's bytes; the local log never holds one.
/// </summary>
public sealed class ModelRecords : IProjection
{
    public void Register(ProjectionRegistry registry) =>
        registry.Handle<ModelPublishedRecord>(7, static (_, _) => ValueTask.FromResult(new ApplyOutcome()), shared: true);
}
