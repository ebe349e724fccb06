using HdrHistogram;
using System.Globalization;
using System.Text;

namespace Personalizer.LoadTests;

/// <summary>A threshold such as <c>p99&lt;=5ms</c>, <c>decide:p99&lt;=5ms</c>, <c>errors&lt;=0.1%</c> or <c>rps&gt;=1000</c>.</summary>
internal sealed record Threshold(string? Step, string Metric, bool AtMost, double Limit, string Text)
{
    public static Threshold Parse(string text)
    {
        var spec = text.Replace(" ", "", StringComparison.Ordinal);
        string? step = null;
        var colon = spec.IndexOf(':', StringComparison.Ordinal);
        if (colon > 0)
        {
            step = spec[..colon];
            spec = spec[(colon + 1)..];
        }
        var atMost = spec.Contains("<=", StringComparison.Ordinal);
        var parts = spec.Split(atMost ? "<=" : ">=");
        if (parts.Length != 2)
        {
            throw new FormatException($"threshold '{text}': expected METRIC<=VALUE or METRIC>=VALUE, e.g. p99<=5ms, errors<=0.1%, rps>=1000");
        }
        var value = parts[1];
        var scale = value.EndsWith("ms", StringComparison.Ordinal) ? 1 : value.EndsWith('s') ? 1000 : value.EndsWith('%') ? 0.01 : 1;
        var number = value.TrimEnd('s', 'm', '%');
        if (!double.TryParse(number, NumberStyles.Float, CultureInfo.InvariantCulture, out var limit))
        {
            throw new FormatException($"threshold '{text}': '{value}' is not a number");
        }
        var metric = parts[0];
        if (metric is not ("p50" or "p75" or "p95" or "p99" or "p99.9" or "max" or "mean" or "errors" or "rps"))
        {
            throw new FormatException($"threshold '{text}': unknown metric '{metric}'; expected p50, p75, p95, p99, p99.9, max, mean, errors, rps");
        }
        return new Threshold(step, metric, atMost, limit * scale, text);
    }

    public double Measure(StepStats s) => Metric switch
    {
        "p50" => s.Ms(50),
        "p75" => s.Ms(75),
        "p95" => s.Ms(95),
        "p99" => s.Ms(99),
        "p99.9" => s.Ms(99.9),
        "max" => s.Latency.TotalCount == 0 ? 0 : s.Latency.GetMaxValue() / 1000.0,
        "mean" => s.Latency.TotalCount == 0 ? 0 : s.Latency.GetMean() / 1000.0,
        "errors" => s.ErrorRate,
        _ => s.Rps,
    };

    public bool Holds(StepStats s) => AtMost ? Measure(s) <= Limit : Measure(s) >= Limit;
}

internal static class Report
{
    public static string Table(IReadOnlyList<StepStats> stats)
    {
        var sb = new StringBuilder();
        sb.AppendLine(CultureInfo.InvariantCulture, $"{"scenario",-12}{"step",-16}{"requests",10}{"ok",10}{"failed",8}{"rps",9}{"p50 ms",9}{"p75 ms",9}{"p95 ms",9}{"p99 ms",9}{"p99.9 ms",10}{"max ms",9}");
        foreach (var s in stats)
        {
            sb.AppendLine(CultureInfo.InvariantCulture,
                $"{s.Scenario,-12}{s.Step,-16}{s.Requests,10}{s.Ok,10}{s.Failed,8}{s.Rps,9:F0}{s.Ms(50),9:F2}{s.Ms(75),9:F2}{s.Ms(95),9:F2}{s.Ms(99),9:F2}{s.Ms(99.9),10:F2}{(s.Latency.TotalCount == 0 ? 0 : s.Latency.GetMaxValue() / 1000.0),9:F2}");
        }
        return sb.ToString();
    }

    public static string Markdown(IReadOnlyList<StepStats> stats, string title, IReadOnlyList<(Threshold Threshold, StepStats Stats, bool Holds)> checks)
    {
        var sb = new StringBuilder();
        sb.AppendLine(CultureInfo.InvariantCulture, $"# {title}");
        sb.AppendLine();
        sb.AppendLine("| scenario | step | requests | ok | failed | rps | p50 ms | p75 ms | p95 ms | p99 ms | p99.9 ms | max ms | mean ms | stddev ms |");
        sb.AppendLine("| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |");
        foreach (var s in stats)
        {
            var mean = s.Latency.TotalCount == 0 ? 0 : s.Latency.GetMean() / 1000;
            var sd = s.Latency.TotalCount == 0 ? 0 : s.Latency.GetStdDeviation() / 1000;
            var max = s.Latency.TotalCount == 0 ? 0 : s.Latency.GetMaxValue() / 1000.0;
            sb.AppendLine(CultureInfo.InvariantCulture, $"| {s.Scenario} | {s.Step} | {s.Requests} | {s.Ok} | {s.Failed} | {s.Rps:F0} | {s.Ms(50):F2} | {s.Ms(75):F2} | {s.Ms(95):F2} | {s.Ms(99):F2} | {s.Ms(99.9):F2} | {max:F2} | {mean:F2} | {sd:F2} |");
        }
        if (checks.Count > 0)
        {
            sb.AppendLine();
            sb.AppendLine("| threshold | step | measured | result |");
            sb.AppendLine("| --- | --- | ---: | --- |");
            foreach (var (t, s, holds) in checks)
            {
                sb.AppendLine(CultureInfo.InvariantCulture, $"| `{t.Text}` | {s.Scenario}/{s.Step} | {t.Measure(s):0.####} | {(holds ? "ok" : "**broken**")} |");
            }
        }
        return sb.ToString();
    }

    /// <summary>An HTML page with the table and two inline SVG charts per step: p50/p99 over time, and throughput.</summary>
    public static string Html(IReadOnlyList<StepStats> stats, string title, string markdownTable)
    {
        var sb = new StringBuilder();
        sb.Append(CultureInfo.InvariantCulture, $"<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>{Escape(title)}</title><style>body{{font-family:system-ui,sans-serif;margin:2rem}}svg{{border:1px solid #ddd;margin:0 1rem 1rem 0}}pre{{background:#f6f6f6;padding:1rem;overflow:auto}}</style></head><body><h1>{Escape(title)}</h1><pre>{Escape(markdownTable)}</pre>");
        foreach (var s in stats)
        {
            var seconds = s.Timeline.Keys.Order().ToArray();
            if (seconds.Length == 0)
            {
                continue;
            }
            var p50 = seconds.Select(k => s.Timeline[k].Histogram.GetValueAtPercentile(50) / 1000.0).ToArray();
            var p99 = seconds.Select(k => s.Timeline[k].Histogram.GetValueAtPercentile(99) / 1000.0).ToArray();
            var rps = seconds.Select(k => (double)s.Timeline[k].Count).ToArray();
            sb.Append(CultureInfo.InvariantCulture, $"<h2>{Escape(s.Scenario)} / {Escape(s.Step)}</h2>");
            sb.Append(Chart("latency (ms) per second: p50 blue, p99 red", [(p50, "#1565c0"), (p99, "#c62828")]));
            sb.Append(Chart("requests per second", [(rps, "#2e7d32")]));
        }
        sb.Append("</body></html>");
        return sb.ToString();
    }

    private static string Chart(string caption, (double[] Values, string Color)[] series)
    {
        const int w = 600, h = 200, pad = 30;
        var max = Math.Max(1e-9, series.Max(x => x.Values.Length == 0 ? 0 : x.Values.Max()));
        var n = series.Max(x => x.Values.Length);
        var sb = new StringBuilder();
        sb.Append(CultureInfo.InvariantCulture, $"<svg width=\"{w}\" height=\"{h}\" viewBox=\"0 0 {w} {h}\" role=\"img\" aria-label=\"{Escape(caption)}\"><text x=\"{pad}\" y=\"16\" font-size=\"12\">{Escape(caption)} (max {max:0.##})</text>");
        foreach (var (values, color) in series)
        {
            var points = string.Join(" ", values.Select((v, i) => string.Create(CultureInfo.InvariantCulture,
                $"{pad + (n <= 1 ? 0 : i * (w - 2 * pad) / (double)(n - 1)):F1},{h - pad - v / max * (h - 2 * pad):F1}")));
            sb.Append(CultureInfo.InvariantCulture, $"<polyline fill=\"none\" stroke=\"{color}\" stroke-width=\"1.5\" points=\"{points}\"/>");
        }
        sb.Append("</svg>");
        return sb.ToString();
    }

    private static string Escape(string s) => System.Net.WebUtility.HtmlEncode(s);
}
