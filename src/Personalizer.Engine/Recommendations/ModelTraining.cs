using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Personalizer.Engine.Pipeline;
using Personalizer.Engine.Sites;

namespace Personalizer.Engine.Recommendations;

/// <summary>
/// Trains models in the background: at start-up (loading the persisted ones first), on a schedule,
/// and on demand. One training at a time; a site is trained again only when the log has grown.
/// </summary>
public sealed partial class ModelTraining(
    ModelTrainer trainer,
    ModelRegistry registry,
    IChangeFeed changes,
    IModelPublisher publisher,
    Ledger ledger,
    ApiKeyRegistry sites,
    RecommendationOptions options,
    RankingCache rankings,
    TimeProvider time,
    ILogger<ModelTraining> logger) : BackgroundService
{
    private readonly SemaphoreSlim _one = new(1, 1);
    private readonly ModelMetrics _metrics = new(registry, sites, rankings, time);

    /// <summary>Trains the site now; null when it has no interactions to learn from.</summary>
    public async Task<RecommendationModel?> TrainAsync(string site, CancellationToken ct = default)
    {
        await _one.WaitAsync(ct).ConfigureAwait(false);
        try
        {
            var model = await Task.Run(() => trainer.Train(site, ct), ct).ConfigureAwait(false);
            if (model is not null)
            {
                await publisher.PublishAsync(model, ct).ConfigureAwait(false);
                ModelMetrics.TrainingDuration.Record(model.TrainingSeconds, new KeyValuePair<string, object?>("site", site));
                Trained(logger, site, model.Version, model.Interactions, model.TrainingSeconds);
            }
            return model;
        }
        finally
        {
            _one.Release();
        }
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        registry.LoadLatest();
        if (options.TrainIntervalMinutes <= 0)
        {
            return;
        }
        using var timer = new PeriodicTimer(TimeSpan.FromMinutes(options.TrainIntervalMinutes), time);
        var lease = TimeSpan.FromMinutes(options.TrainIntervalMinutes * 2);
        do
        {
            // One trainer per deployment: on a shared store, the node holding the lease.
            try
            {
                if (!await changes.TryLeadAsync("training", lease, stoppingToken).ConfigureAwait(false))
                {
                    continue;
                }
            }
            catch (StoreUnavailableException)
            {
                continue;
            }
            foreach (var site in sites.SiteIds)
            {
                if (registry.Current(site) is { } current && current.LastSeq >= ledger.LastSeq)
                {
                    continue;
                }
                try
                {
                    await TrainAsync(site, stoppingToken).ConfigureAwait(false);
                }
                catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
                {
                    return;
                }
                catch (Exception ex)
                {
                    TrainingFailed(logger, ex, site);
                }
            }
        }
        while (await timer.WaitForNextTickAsync(stoppingToken).ConfigureAwait(false));
    }

    public override void Dispose()
    {
        _one.Dispose();
        _metrics.Dispose();
        base.Dispose();
    }

    [LoggerMessage(20, LogLevel.Information, "Trained a model for site '{Site}': version {Version}, {Interactions} interactions in {Seconds} s")]
    private static partial void Trained(ILogger logger, string site, string version, int interactions, double seconds);

    [LoggerMessage(21, LogLevel.Error, "Training a model for site '{Site}' failed; the previous model stays in use")]
    private static partial void TrainingFailed(ILogger logger, Exception exception, string site);
}

/// <summary>Training durations, and per site the serving model's age and size (its version is the label of the age gauge).</summary>
internal sealed class ModelMetrics : IDisposable
{
    private static readonly System.Diagnostics.Metrics.Meter Shared = new("Personalizer");

    public static readonly System.Diagnostics.Metrics.Histogram<double> TrainingDuration = Shared.CreateHistogram<double>(
        "personalizer.model.training.duration", "s", "Time to train a site's model, from reading history to the published model.");

    private readonly System.Diagnostics.Metrics.Meter _meter = new("Personalizer");

    public ModelMetrics(ModelRegistry registry, ApiKeyRegistry sites, RankingCache rankings, TimeProvider time)
    {
        _meter.CreateObservableCounter("personalizer.recommendations.ranking_cache", () => new[]
        {
            new System.Diagnostics.Metrics.Measurement<long>(rankings.Hits, new KeyValuePair<string, object?>("outcome", "hit")),
            new System.Diagnostics.Metrics.Measurement<long>(rankings.Misses, new KeyValuePair<string, object?>("outcome", "miss")),
        }, "{ranking}", "Personalized rankings asked of the ranking cache, by outcome (a hit skips the fold-in and the scoring).");
        _meter.CreateObservableGauge("personalizer.model.age", () => Models(registry, sites).Select(m =>
            new System.Diagnostics.Metrics.Measurement<double>((time.GetUtcNow().ToUnixTimeMilliseconds() - m.CreatedAt) / 1000.0,
                new KeyValuePair<string, object?>("site", m.Site), new KeyValuePair<string, object?>("version", m.Version))),
            "s", "Age of the model each site is served from, labelled with its version.");
        _meter.CreateObservableGauge("personalizer.model.items", () => Models(registry, sites).Select(m =>
            new System.Diagnostics.Metrics.Measurement<int>(m.ItemIds.Length, new KeyValuePair<string, object?>("site", m.Site))),
            "{item}", "Items in the model each site is served from.");
    }

    public void Dispose() => _meter.Dispose();

    private static IEnumerable<RecommendationModel> Models(ModelRegistry registry, ApiKeyRegistry sites)
    {
        foreach (var site in sites.SiteIds)
        {
            if (registry.Current(site) is { } model)
            {
                yield return model;
            }
        }
    }
}
