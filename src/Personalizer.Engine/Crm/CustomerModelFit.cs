using MathNet.Numerics.Statistics;

namespace Personalizer.Engine.Crm;

/// <summary>Predicted against actual repeat purchases of one group of customers (by purchases in the calibration period).</summary>
public sealed record HoldoutGroup(string CalibrationRepeatPurchases, int Customers, double Predicted, int Actual);

/// <summary>
/// How the lifetime-value model did on purchases it was not fitted on: customers as of the
/// calibration end, their repeat purchase days in the holdout period, predicted (BG/NBD conditional
/// expectation) against actual, per group and in total.
/// </summary>
public sealed record HoldoutReport(string CalibrationEnd, string HoldoutEnd, int Days, IReadOnlyList<HoldoutGroup> Groups,
    double Predicted, int Actual, double? RelativeError, string Outcome, bool Passed);

/// <summary>Fits a site's <see cref="CustomerModel"/> on its customers as of a day, with the checks that decide whether it may be used.</summary>
public static class CustomerModelFit
{
    private static readonly double[] QuintileEdges = [0.2, 0.4, 0.6, 0.8];

    /// <summary>
    /// The model as of <paramref name="asOfDay"/>. With <paramref name="holdoutEndDay"/> after it, the
    /// holdout report compares the model's predictions for (asOf, holdoutEnd] with what happened; without
    /// one, a second fit as of <c>asOf − HoldoutDays</c> is checked against the last <c>HoldoutDays</c>.
    /// Either way a failed check keeps the lifetime-value model from being used.
    /// </summary>
    public static CustomerModel Fit(string site, IReadOnlyList<CustomerPurchases> customers, int asOfDay, int? holdoutEndDay, CrmOptions options, long fittedAt)
    {
        var model = FitAt(site, customers, asOfDay, options, fittedAt);
        HoldoutReport? report = null;
        if (holdoutEndDay is { } end && end > asOfDay)
        {
            report = model.BgNbd is { } fitted && model.ClvUnavailable is null ? Holdout(fitted, customers, asOfDay, end, options) : null;
        }
        else if (holdoutEndDay is null && options.HoldoutDays > 0)
        {
            var calibration = FitAt(site, customers, asOfDay - options.HoldoutDays, options, fittedAt);
            report = calibration.BgNbd is { } earlier && calibration.ClvUnavailable is null
                ? Holdout(earlier, customers, asOfDay - options.HoldoutDays, asOfDay, options)
                : null;
        }
        if (report is { Passed: false })
        {
            model = model with { ClvUnavailable = "the holdout check failed: " + report.Outcome };
        }
        return model with { Holdout = report };
    }

    private static CustomerModel FitAt(string site, IReadOnlyList<CustomerPurchases> all, int asOfDay, CrmOptions options, long fittedAt)
    {
        var customers = all.Where(c => c.Days[0].Day <= asOfDay).ToList();
        var asOf = PurchaseHistory.DateOf(asOfDay).ToString("yyyy-MM-dd", System.Globalization.CultureInfo.InvariantCulture);
        if (customers.Count == 0)
        {
            return new CustomerModel(site, fittedAt, 0, 0, null, null, null)
            { AsOf = asOf, ClvUnavailable = "no customers yet", SpendUnavailable = "no customers yet", RecentBuyerDays = options.RecentBuyerDays };
        }
        var summaries = customers.Select(c => c.Summary(asOfDay)).ToList();
        var repeat = summaries.Where(s => s.Frequency > 0 && s.MeanSpend > 0).ToList();
        var rfm = new RfmCutPoints(
            Quintiles(customers.Select(c => (double)(asOfDay - c.Days[c.CountUpTo(asOfDay) - 1].Day))),
            Quintiles(customers.Select(c => (double)c.Days.Take(c.CountUpTo(asOfDay)).Sum(d => d.Orders))),
            Quintiles(customers.Select(c => c.Days.Take(c.CountUpTo(asOfDay)).Sum(d => d.Amount))));

        string? clvReason = null;
        BgNbdParameters? bgnbd = null;
        var repeatCount = summaries.Count(s => s.Frequency > 0);
        if (customers.Count < options.MinimumCustomers)
        {
            clvReason = $"{customers.Count} customers; the lifetime-value model needs {options.MinimumCustomers} (Crm:MinimumCustomers)";
        }
        else if (repeatCount < options.MinimumRepeatCustomers)
        {
            clvReason = $"{repeatCount} customers bought on more than one day; the lifetime-value model needs {options.MinimumRepeatCustomers} (Crm:MinimumRepeatCustomers)";
        }
        else
        {
            (bgnbd, clvReason) = TryFit(() => BgNbd.Fit(summaries));
            if (bgnbd is not null && OutOfBounds(bgnbd) is { } bad)
            {
                clvReason = bad;
            }
        }

        string? spendReason = null;
        GammaGammaParameters? gg = null;
        if (repeat.Count < options.MinimumRepeatCustomers)
        {
            spendReason = $"{repeat.Count} repeat customers with spend; the spend model needs {options.MinimumRepeatCustomers}";
        }
        else
        {
            (gg, spendReason) = TryFit(() => GammaGamma.Fit(repeat));
            if (gg is not null && (!new[] { gg.P, gg.Q, gg.V }.All(double.IsFinite) || gg.Q <= 1))
            {
                spendReason = $"q = {gg.Q:G4}: the spend model has no finite mean (q must exceed 1)";
            }
        }
        return new CustomerModel(site, fittedAt, customers.Count, repeatCount, rfm, bgnbd, gg)
        {
            AsOf = asOf,
            ClvUnavailable = clvReason,
            SpendUnavailable = spendReason,
            RecentBuyerDays = options.RecentBuyerDays,
        };
    }

    /// <summary>
    /// Whether the fitted parameters describe customers at all (time in days): finite and positive; a
    /// Gamma scale α of at least a hundredth of a day (a fit on purchases minutes apart runs α to 0);
    /// a mean purchase rate r/α of at most one purchase day per day; a mean drop-out chance a/(a+b)
    /// strictly between 0 and 1. Very large a and b with a steady ratio are allowed: every customer
    /// then drops out with the same chance, which the data may well say.
    /// </summary>
    internal static string? OutOfBounds(BgNbdParameters m)
    {
        if (!new[] { m.R, m.Alpha, m.A, m.B }.All(v => double.IsFinite(v) && v > 0))
        {
            return "the fit did not reach finite positive parameters";
        }
        if (m.Alpha < 0.01)
        {
            return $"the fit gave alpha = {m.Alpha:G4} days: purchases closer than the model's day resolution, not a purchase rate";
        }
        if (m.R / m.Alpha > 1)
        {
            return $"the fit gave a mean purchase rate r/alpha = {m.R / m.Alpha:G4} per day, above one purchase day per day";
        }
        var dropout = m.A / (m.A + m.B);
        if (dropout is < 1e-6 or > 1 - 1e-6)
        {
            return $"the fit gave a drop-out chance a/(a+b) = {dropout:G4}: the data do not identify it";
        }
        return null;
    }

    /// <summary>Predicted against actual repeat purchase days in (asOf, end], grouped by calibration repeat purchases 0–6 and 7+.</summary>
    public static HoldoutReport Holdout(BgNbdParameters model, IReadOnlyList<CustomerPurchases> customers, int asOfDay, int endDay, CrmOptions options)
    {
        const int Groups = 8;
        var count = new int[Groups];
        var predicted = new double[Groups];
        var actual = new int[Groups];
        foreach (var c in customers)
        {
            if (c.Days[0].Day > asOfDay)
            {
                continue;
            }
            var s = c.Summary(asOfDay);
            var g = Math.Min((int)s.Frequency, Groups - 1);
            count[g]++;
            predicted[g] += BgNbd.ExpectedPurchases(model, s, endDay - asOfDay);
            actual[g] += c.DaysBetween(asOfDay, endDay);
        }
        var groups = Enumerable.Range(0, Groups)
            .Select(g => new HoldoutGroup(g == Groups - 1 ? $"{g}+" : $"{g}", count[g], Math.Round(predicted[g], 2), actual[g]))
            .ToList();
        var totalPredicted = Math.Round(predicted.Sum(), 2);
        var totalActual = actual.Sum();
        var from = PurchaseHistory.DateOf(asOfDay).ToString("yyyy-MM-dd", System.Globalization.CultureInfo.InvariantCulture);
        var to = PurchaseHistory.DateOf(endDay).ToString("yyyy-MM-dd", System.Globalization.CultureInfo.InvariantCulture);
        if (totalActual < options.HoldoutMinimumPurchases)
        {
            return new HoldoutReport(from, to, endDay - asOfDay, groups, totalPredicted, totalActual, null,
                $"not checked: {totalActual} repeat purchases in the holdout period; the check needs {options.HoldoutMinimumPurchases} (Crm:HoldoutMinimumPurchases)", Passed: true);
        }
        var error = Math.Round((totalPredicted - totalActual) / totalActual, 4);
        var passed = Math.Abs(error) <= options.HoldoutTolerance;
        return new HoldoutReport(from, to, endDay - asOfDay, groups, totalPredicted, totalActual, error,
            $"predicted {totalPredicted:F1} repeat purchases against {totalActual} actual ({error:+0.0%;-0.0%}; tolerance ±{options.HoldoutTolerance:0%})", passed);
    }

    private static double[] Quintiles(IEnumerable<double> values)
    {
        var sorted = values.Order().ToArray();
        return [.. QuintileEdges.Select(tau => SortedArrayStatistics.Quantile(sorted, tau))];
    }

    private static (T?, string?) TryFit<T>(Func<T> fit) where T : class
    {
        try
        {
            return (fit(), null);
        }
        catch (ModelFitException ex)
        {
            return (null, ex.Message);
        }
    }
}
