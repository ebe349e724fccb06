using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using Personalizer.Engine.Crm;

namespace Personalizer.Cli;

/// <summary><c>clv fit</c>: BG/NBD and Gamma-Gamma parameters by maximum likelihood.</summary>
internal static class ClvCommands
{
    public static Command Create()
    {
        var clv = new Command("clv", "Customer lifetime value models.");
        var summary = new Option<FileInfo>("--summary") { Description = "CSV with columns x (or frequency), t_x (or recency), T, and optionally monetary or zbar" };
        var transactions = new Option<FileInfo>("--transactions") { Description = "customer id, date (yyyyMMdd or ISO), amount per line (CSV or whitespace); weeks since each customer's first purchase" };
        var json = new Option<bool>("--json") { Description = "print {r, alpha, a, b[, p, q, v]}" };
        var days = new Option<bool>("--days") { Description = "time in days, as the service fits (a summary file in weeks is converted): alpha is then per day" };
        var fit = new Command("fit", "Fit BG/NBD (purchase frequency, P(alive)) and, when spend is given, Gamma-Gamma.") { summary, transactions, json, days };
        fit.SetAction(parse =>
        {
            var s = parse.GetValue(summary);
            var t = parse.GetValue(transactions);
            if ((s is null) == (t is null))
            {
                Console.Error.WriteLine("clv fit: give exactly one of --summary FILE or --transactions FILE");
                return 2;
            }
            var file = (s ?? t)!;
            if (!file.Exists)
            {
                Console.Error.WriteLine($"clv fit: no such file '{file.FullName}'");
                return 2;
            }
            var customers = s is not null ? ReadSummary(file.FullName) : ReadTransactions(file.FullName);
            if (parse.GetValue(days))
            {
                customers = [.. customers.Select(c => c with { Recency = c.Recency * 7, Age = c.Age * 7 })];
            }
            BgNbdParameters bgnbd;
            GammaGammaParameters? gg;
            try
            {
                bgnbd = BgNbd.Fit(customers);
                gg = customers.Any(c => c.MeanSpend > 0) ? GammaGamma.Fit(customers) : null;
            }
            catch (ModelFitException ex)
            {
                Console.Error.WriteLine($"clv fit: {ex.Message}");
                return 1;
            }
            if (parse.GetValue(json))
            {
                var values = new Dictionary<string, double> { ["r"] = bgnbd.R, ["alpha"] = bgnbd.Alpha, ["a"] = bgnbd.A, ["b"] = bgnbd.B };
                if (gg is not null)
                {
                    values["p"] = gg.P;
                    values["q"] = gg.Q;
                    values["v"] = gg.V;
                }
                Console.WriteLine(JsonSerializer.Serialize(values.ToDictionary(kv => kv.Key, kv => Math.Round(kv.Value, 4)), ClvJson.Default.DictionaryStringDouble));
                return 0;
            }
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{customers.Count} customers, {customers.Count(c => c.Frequency > 0)} with repeat purchases"));
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"BG/NBD       r = {bgnbd.R:F4}  alpha = {bgnbd.Alpha:F4}  a = {bgnbd.A:F4}  b = {bgnbd.B:F4}  (log-likelihood {BgNbd.LogLikelihood(bgnbd, customers):F2})"));
            if (gg is not null)
            {
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"Gamma-Gamma  p = {gg.P:F4}  q = {gg.Q:F4}  v = {gg.V:F4}"));
            }
            return 0;
        });
        clv.Subcommands.Add(fit);
        clv.Subcommands.Add(ClvToEvents.Create());
        return clv;
    }

    internal static List<CustomerSummary> ReadSummary(string path)
    {
        var lines = File.ReadAllLines(path).Where(l => l.Trim().Length > 0).ToArray();
        var header = lines[0].Split(',').Select(h => h.Trim()).ToArray();
        int Column(params string[] names) => Array.FindIndex(header, h => names.Contains(h, StringComparer.OrdinalIgnoreCase));
        var (x, tx, t, m) = (Column("x", "frequency"), Column("t_x", "recency"), Column("T", "age"), Column("monetary", "zbar", "monetary_value"));
        if (x < 0 || tx < 0 || t < 0)
        {
            throw new FormatException($"'{path}': the header needs x (or frequency), t_x (or recency) and T; found {lines[0]}");
        }
        return [.. lines.Skip(1).Select(l => l.Split(',')).Select(p => new CustomerSummary(
            double.Parse(p[x], CultureInfo.InvariantCulture), double.Parse(p[tx], CultureInfo.InvariantCulture),
            double.Parse(p[t], CultureInfo.InvariantCulture), m >= 0 ? double.Parse(p[m], CultureInfo.InvariantCulture) : 0))];
    }

    /// <summary>Transactions to summaries: repeat purchases on distinct days after the first, in weeks, up to the last date in the file.</summary>
    internal static List<CustomerSummary> ReadTransactions(string path)
    {
        var rows = new List<(string Id, DateTime Day, double Amount)>();
        foreach (var line in File.ReadLines(path))
        {
            var p = line.Trim().Split([',', ' ', '\t'], StringSplitOptions.RemoveEmptyEntries);
            if (p.Length < 3 || !double.TryParse(p[^1], NumberStyles.Float, CultureInfo.InvariantCulture, out var amount))
            {
                continue; // a header
            }
            // The date is the first field after the id that reads as yyyyMMdd or an ISO date (some exports carry a second id).
            DateTime? day = null;
            for (var k = 1; k < p.Length - 1 && day is null; k++)
            {
                if (DateTime.TryParseExact(p[k], ["yyyyMMdd", "yyyy-MM-dd"], CultureInfo.InvariantCulture, DateTimeStyles.None, out var d))
                {
                    day = d;
                }
            }
            if (day is null)
            {
                throw new FormatException($"'{path}': no date (yyyyMMdd or yyyy-MM-dd) in '{line.Trim()}'");
            }
            rows.Add((p[0], day.Value.Date, amount));
        }
        if (rows.Count == 0)
        {
            throw new FormatException($"'{path}': no line of the form 'customer date amount'");
        }
        var end = rows.Max(r => r.Day);
        return [.. rows.GroupBy(r => r.Id).Select(g =>
        {
            var days = g.GroupBy(r => r.Day).OrderBy(d => d.Key).Select(d => (d.Key, Amount: d.Sum(r => r.Amount))).ToArray();
            var first = days[0].Key;
            var repeat = days.Skip(1).ToArray();
            return new CustomerSummary(repeat.Length, (days[^1].Key - first).TotalDays / 7, (end - first).TotalDays / 7, repeat.Length > 0 ? repeat.Average(r => r.Amount) : 0);
        })];
    }
}

[System.Text.Json.Serialization.JsonSerializable(typeof(Dictionary<string, double>))]
internal sealed partial class ClvJson : System.Text.Json.Serialization.JsonSerializerContext;
