using MathNet.Numerics.Statistics;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Personalizer.Engine.Archive;
using Personalizer.Engine.Events;
using Personalizer.Engine.Profiles;
using Personalizer.Engine.Sites;
using Personalizer.Engine.Storage;
using Personalizer.Engine.Pipeline;

namespace Personalizer.Engine.Crm;

/// <summary>
/// Refits each site's <see cref="CustomerModel"/> from the whole history (the archive and the log's tail): at start-up, every
/// <c>Crm:RefreshMinutes</c>, and on demand. The population is every visitor with an order, neither
/// erased nor refusing tracking. RFM cut points need one customer; BG/NBD needs
/// <see cref="MinimumCustomers"/> customers, Gamma-Gamma <see cref="MinimumRepeatCustomers"/> repeat ones.
/// </summary>
public sealed partial class CustomerModelRefresh(
    EventHistory history, CustomerModels models, ApiKeyRegistry sites, CrmOptions options, TimeProvider time, ILogger<CustomerModelRefresh> logger) : BackgroundService
{
    public const int MinimumCustomers = 20;
    public const int MinimumRepeatCustomers = 10;
    private static readonly double[] QuintileEdges = [0.2, 0.4, 0.6, 0.8];
    private readonly SemaphoreSlim _one = new(1, 1);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        await Task.Yield();
        do
        {
            try
            {
                await RefreshAllAsync(stoppingToken).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception ex)
            {
                RefreshFailed(logger, ex);
            }
        }
        while (options.RefreshMinutes > 0 && await Delay(stoppingToken).ConfigureAwait(false));
    }

    private async Task<bool> Delay(CancellationToken ct)
    {
        try
        {
            await Task.Delay(TimeSpan.FromMinutes(options.RefreshMinutes), time, ct).ConfigureAwait(false);
            return true;
        }
        catch (OperationCanceledException)
        {
            return false;
        }
    }

    public async Task RefreshAllAsync(CancellationToken ct = default)
    {
        await _one.WaitAsync(ct).ConfigureAwait(false);
        try
        {
            var customers = Read(ct);
            foreach (var site in sites.SiteIds)
            {
                var model = Fit(site, customers.GetValueOrDefault(site) ?? [], time.GetUtcNow().ToUnixTimeMilliseconds());
                models.Publish(model);
                Refreshed(logger, site, model.Customers, model.RepeatCustomers, model.BgNbd is not null);
            }
        }
        finally
        {
            _one.Release();
        }
    }

    private sealed class Buyer
    {
        public int Orders;
        public long First = long.MaxValue;
        public long Last;
        public double Revenue;
        public bool Excluded;
    }

    private Dictionary<string, List<Buyer>> Read(CancellationToken ct)
    {
        var bySite = new Dictionary<string, Dictionary<string, Buyer>>(StringComparer.Ordinal);
        Buyer Get(string site, string visitor)
        {
            if (!bySite.TryGetValue(site, out var buyers))
            {
                bySite[site] = buyers = new(StringComparer.Ordinal);
            }
            if (!buyers.TryGetValue(visitor, out var b))
            {
                buyers[visitor] = b = new Buyer();
            }
            return b;
        }
        foreach (var (_, record) in history.Read(site: null, ct))
        {
            switch (record)
            {
                case EventBatchRecord batch:
                    foreach (var e in batch.Events)
                    {
                        if (e.Type == EventType.Purchase)
                        {
                            var b = Get(batch.SiteId, e.VisitorId);
                            b.Orders++;
                            b.Revenue += e.Revenue;
                            b.First = Math.Min(b.First, e.Timestamp);
                            b.Last = Math.Max(b.Last, e.Timestamp);
                        }
                    }
                    break;
                case EraseProfileRecord erase:
                    Get(erase.SiteId, erase.VisitorId).Excluded = true;
                    break;
                case PreferencesRecord preferences when preferences.Preferences.Tracking == TrackingConsent.Denied:
                    Get(preferences.SiteId, preferences.VisitorId).Excluded = true;
                    break;
            }
        }
        return bySite.ToDictionary(kv => kv.Key, kv => kv.Value.Values.Where(b => b.Orders > 0 && !b.Excluded).ToList(), StringComparer.Ordinal);
    }

    private static CustomerModel Fit(string site, List<Buyer> buyers, long nowMs)
    {
        if (buyers.Count == 0)
        {
            return new CustomerModel(site, nowMs, 0, 0, null, null, null);
        }
        double[] Quintiles(IEnumerable<double> values)
        {
            var sorted = values.Order().ToArray();
            return [.. QuintileEdges.Select(tau => SortedArrayStatistics.Quantile(sorted, tau))];
        }
        var rfm = new RfmCutPoints(
            Quintiles(buyers.Select(b => Math.Max(0, (nowMs - b.Last) / CustomerInsights.DayMs))),
            Quintiles(buyers.Select(b => (double)b.Orders)),
            Quintiles(buyers.Select(b => b.Revenue)));
        var summaries = buyers.Select(b => CustomerInsights.Summary(b.Orders, b.First, b.Last, b.Revenue, nowMs)).ToList();
        var repeat = summaries.Where(c => c.Frequency > 0 && c.MeanSpend > 0).ToList();
        var bgnbd = buyers.Count >= MinimumCustomers && repeat.Count > 0 ? TryFit(() => BgNbd.Fit(summaries)) : null;
        var gg = repeat.Count >= MinimumRepeatCustomers ? TryFit(() => GammaGamma.Fit(repeat)) : null;
        // A fit that did not converge to finite parameters is no model.
        if (bgnbd is not null && !new[] { bgnbd.R, bgnbd.Alpha, bgnbd.A, bgnbd.B }.All(double.IsFinite))
        {
            bgnbd = null;
        }
        if (gg is not null && (!new[] { gg.P, gg.Q, gg.V }.All(double.IsFinite) || gg.Q <= 1))
        {
            gg = null;
        }
        return new CustomerModel(site, nowMs, buyers.Count, repeat.Count, rfm, bgnbd, gg);
    }

    private static T? TryFit<T>(Func<T> fit) where T : class
    {
        try
        {
            return fit();
        }
        catch (ModelFitException)
        {
            return null; // this part of the model waits for data it can be fitted on
        }
    }

    public override void Dispose()
    {
        _one.Dispose();
        base.Dispose();
    }

    [LoggerMessage(40, LogLevel.Information, "Customer model of site '{Site}': {Customers} customers, {Repeat} repeat, lifetime-value model fitted: {Fitted}")]
    private static partial void Refreshed(ILogger logger, string site, int customers, int repeat, bool fitted);

    [LoggerMessage(41, LogLevel.Error, "Refitting the customer models failed; the previous ones stay in use")]
    private static partial void RefreshFailed(ILogger logger, Exception exception);
}

public sealed class CrmOptions
{
    /// <summary>Minutes between two refits of the RFM cut points and lifetime-value models (0: at start-up and on demand only).</summary>
    [System.ComponentModel.DataAnnotations.Range(0, 10_080)]
    public int RefreshMinutes { get; set; } = 60;
}
