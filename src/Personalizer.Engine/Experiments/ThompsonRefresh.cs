using Microsoft.Extensions.Hosting;
using Personalizer.Engine.Configuration;
using Personalizer.Engine.Sites;

namespace Personalizer.Engine.Experiments;

/// <summary>
/// Every few seconds, sets each running Thompson-sampling experiment's arm weights to the arms'
/// probabilities of being best (with a 1% floor, so no arm stops learning). Assignment stays a hash
/// with these weights, so a visitor changes arm only when the edge moves past their bucket.
/// </summary>
public sealed class ThompsonRefresh(ExperimentResults results, ThompsonWeights weights, ConfigurationStore configuration, ApiKeyRegistry sites, TimeProvider time) : BackgroundService
{
    public static readonly TimeSpan Interval = TimeSpan.FromSeconds(5);
    public const double Floor = 0.01;

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(Interval, time);
        while (await timer.WaitForNextTickAsync(stoppingToken).ConfigureAwait(false))
        {
            await RefreshAllAsync(stoppingToken).ConfigureAwait(false);
        }
    }

    public async Task RefreshAllAsync(CancellationToken ct = default)
    {
        foreach (var site in sites.SiteIds)
        {
            foreach (var experiment in configuration.Current(site).Experiments.Values)
            {
                if (experiment.Status == ExperimentStatus.Running && experiment.Allocation == ExperimentAllocation.Thompson)
                {
                    await RefreshAsync(site, experiment, ct).ConfigureAwait(false);
                }
            }
        }
    }

    public async Task RefreshAsync(string site, ExperimentDefinition experiment, CancellationToken ct = default)
    {
        var report = await results.ComputeAsync(site, experiment, time.GetUtcNow().ToUnixTimeMilliseconds(), ct).ConfigureAwait(false);
        var byArm = report.Arms.Where(a => a.Arm != ExperimentAssignment.Control).ToDictionary(a => a.Arm, a => a.ProbabilityBest, StringComparer.Ordinal);
        weights.Set(site, experiment.Id, [.. experiment.Arms.Select(a => Math.Max(Floor, byArm.GetValueOrDefault(a.Id)))]);
    }
}
