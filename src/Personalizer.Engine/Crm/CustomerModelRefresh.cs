using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Personalizer.Engine.Archive;
using Personalizer.Engine.Sites;

namespace Personalizer.Engine.Crm;

/// <summary>
/// Refits each site's <see cref="CustomerModel"/> from the whole history (the archive and the log's tail): at start-up, every
/// <c>Crm:RefreshMinutes</c>, and on demand. The population is every customer (merged identities) with an
/// order, neither erased nor refusing tracking (<see cref="PurchaseHistory"/>); the fit and its checks are
/// <see cref="CustomerModelFit"/>.
/// </summary>
public sealed partial class CustomerModelRefresh(
    EventHistory history, CustomerModels models, ApiKeyRegistry sites, CrmOptions options, TimeProvider time, ILogger<CustomerModelRefresh> logger) : BackgroundService
{
    private readonly SemaphoreSlim _one = new(1, 1);
    private const int LargeHistoryVisitors = 100_000;

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        await Task.Yield();
        do
        {
            try
            {
                var visitors = await RefreshAllAsync(ct: stoppingToken).ConfigureAwait(false);
                // The refit's per-visitor tables (a million visitors: the compact table's ~25 MB of arrays, and the strings the
                // archive's read made) are garbage now, in generation 2 and the large-object heap, which an idle service holds
                // until its next full collection (406 MB resident on the load seed). A compacting collection returns it: 353 MB,
                // for one pause per refit (at start-up and every Crm:RefreshMinutes); below a large history it is not worth it.
                if (visitors >= LargeHistoryVisitors)
                {
                    GC.Collect(2, GCCollectionMode.Aggressive, blocking: true, compacting: true);
                }
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

    /// <summary>
    /// Refits every site. With <paramref name="asOf"/>, on the history up to that day (inclusive), and
    /// the holdout report compares with what followed: the next <paramref name="holdoutDays"/> days, or
    /// up to the history's last day. Returns the visitors the history held.
    /// </summary>
    public async Task<int> RefreshAllAsync(DateOnly? asOf = null, int? holdoutDays = null, CancellationToken ct = default)
    {
        await _one.WaitAsync(ct).ConfigureAwait(false);
        try
        {
            var visitors = 0;
            var nowMs = time.GetUtcNow().ToUnixTimeMilliseconds();
            var histories = PurchaseHistory.Read(history, ct);
            foreach (var site in sites.SiteIds)
            {
                var siteHistory = histories.GetValueOrDefault(site) ?? SiteHistory.Empty;
                var (customers, lastDay) = (siteHistory.Customers, siteHistory.LastDay);
                var asOfDay = asOf is { } date ? PurchaseHistory.DayOf(date) : PurchaseHistory.DayOf(nowMs);
                int? holdoutEnd = asOf is null ? null : holdoutDays is { } days ? asOfDay + days : Math.Max(asOfDay, lastDay);
                var model = CustomerModelFit.Fit(site, customers, asOfDay, holdoutEnd, options, nowMs);
                model = model with { Distribution = CustomerDistribution.Of(model, customers, asOfDay, siteHistory.Visitors, siteHistory.EngagedVisitors) };
                models.Publish(model);
                Refreshed(logger, site, model.Customers, model.RepeatCustomers, model.ClvUnavailable ?? "in use");
                visitors += siteHistory.Visitors;
            }
            return visitors;
        }
        finally
        {
            _one.Release();
        }
    }

    public override void Dispose()
    {
        _one.Dispose();
        base.Dispose();
    }

    [LoggerMessage(40, LogLevel.Information, "Customer model of site '{Site}': {Customers} customers, {Repeat} repeat, lifetime-value model: {Status}")]
    private static partial void Refreshed(ILogger logger, string site, int customers, int repeat, string status);

    [LoggerMessage(41, LogLevel.Error, "Refitting the customer models failed; the previous ones stay in use")]
    private static partial void RefreshFailed(ILogger logger, Exception exception);
}

public sealed class CrmOptions
{
    /// <summary>Minutes between two refits of the RFM cut points and lifetime-value models (0: at start-up and on demand only).</summary>
    [System.ComponentModel.DataAnnotations.Range(0, 10_080)]
    public int RefreshMinutes { get; set; } = 60;

    /// <summary>Customers needed before the lifetime-value model is fitted and used.</summary>
    [System.ComponentModel.DataAnnotations.Range(2, 10_000_000)]
    public int MinimumCustomers { get; set; } = 20;

    /// <summary>Customers with purchases on more than one day needed (the models learn only from repeat purchases).</summary>
    [System.ComponentModel.DataAnnotations.Range(1, 10_000_000)]
    public int MinimumRepeatCustomers { get; set; } = 10;

    /// <summary>Days held out at each refit: a fit as of that many days ago must predict the repeat purchases since (0: no check).</summary>
    [System.ComponentModel.DataAnnotations.Range(0, 3650)]
    public int HoldoutDays { get; set; } = 90;

    /// <summary>Largest relative error of the holdout's total repeat purchases for the model to be used.</summary>
    [System.ComponentModel.DataAnnotations.Range(0.01, 10)]
    public double HoldoutTolerance { get; set; } = 0.25;

    /// <summary>Repeat purchases the holdout period must hold for the check to say anything; fewer and it is reported as not checked.</summary>
    [System.ComponentModel.DataAnnotations.Range(1, 10_000_000)]
    public int HoldoutMinimumPurchases { get; set; } = 30;

    /// <summary>A customer who bought within this many days is never lapsed or at risk, and has an RFM recency score of at least 4.</summary>
    [System.ComponentModel.DataAnnotations.Range(0, 3650)]
    public int RecentBuyerDays { get; set; } = 30;
}
