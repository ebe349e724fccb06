using System.CommandLine;

namespace Personalizer.LoadTests;

internal static class LoadTool
{
    public static async Task<int> Main(string[] args)
    {
        var root = new RootCommand("Personalizer load tests: open-model scenarios, HdrHistogram percentiles, thresholds and reports.");

        var url = new Option<string>("--url") { DefaultValueFactory = _ => "http://127.0.0.1:5080", Description = "the service (loopback only)" };
        var scenarios = new Option<string>("--scenario") { DefaultValueFactory = _ => "storefront,baseline", Description = $"comma-separated: {string.Join(", ", Scenarios.Names)}" };
        var rate = new Option<double>("--rate") { DefaultValueFactory = _ => 500, Description = "requests per second per scenario (open model)" };
        var ramp = new Option<double?>("--ramp-to") { Description = "ramp the rate linearly to this value over the run" };
        var copies = new Option<int?>("--copies") { Description = "closed model instead: this many concurrent copies" };
        var duration = new Option<int>("--duration") { DefaultValueFactory = _ => 30, Description = "measured seconds" };
        var warmUp = new Option<int>("--warmup") { DefaultValueFactory = _ => 5, Description = "seconds of load before measuring" };
        var visitors = new Option<int>("--visitors") { DefaultValueFactory = _ => 1_000_000 };
        var items = new Option<int>("--items") { DefaultValueFactory = _ => 10_000 };
        var key = new Option<string>("--site-key") { DefaultValueFactory = _ => "demo-site-key" };
        var output = new Option<DirectoryInfo>("--report") { DefaultValueFactory = _ => new DirectoryInfo("loadtest-report") };
        var thresholds = new Option<string[]>("--threshold") { Description = "e.g. decide:p99<=5ms, errors<=0.1%, rps>=1000 (repeatable)", AllowMultipleArgumentsPerToken = true };
        var run = new Command("run", "Run scenarios against a running service and write the report.")
        {
            url, scenarios, rate, ramp, copies, duration, warmUp, visitors, items, key, output, thresholds,
        };
        run.SetAction(async (parse, ct) =>
        {
            if (!Uri.TryCreate(parse.GetValue(url), UriKind.Absolute, out var target))
            {
                Console.Error.WriteLine($"run: --url '{parse.GetValue(url)}' is not an absolute URL");
                return 2;
            }
            Runner.RequireLoopback(target);
            var checks = (parse.GetValue(thresholds) ?? []).Select(Threshold.Parse).ToList();
            var settings = new Scenarios.Settings(parse.GetValue(key)!, parse.GetValue(visitors), parse.GetValue(items), parse.GetValue(rate),
                TimeSpan.FromSeconds(parse.GetValue(duration)), TimeSpan.FromSeconds(parse.GetValue(warmUp)));
            var total = settings.WarmUp + settings.Duration;
            var list = parse.GetValue(scenarios)!.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Select(name =>
            {
                var scenario = Scenarios.Create(name, settings);
                LoadSimulation load = parse.GetValue(copies) is { } c ? new KeepConstant(c, total)
                    : parse.GetValue(ramp) is { } to ? new RampingInject(settings.Rate, to, total)
                    : new Inject(settings.Rate, total);
                return scenario with { Simulations = [load] };
            }).ToList();

            using var handler = new SocketsHttpHandler { MaxConnectionsPerServer = 512, PooledConnectionLifetime = TimeSpan.FromMinutes(5) };
            using var backoff = new Backoff(handler);
            using var client = new HttpClient(backoff, disposeHandler: false) { BaseAddress = target, Timeout = TimeSpan.FromSeconds(10) };
            Console.WriteLine($"{string.Join(", ", list.Select(s => $"{s.Name}: {s.Simulations[0].Describe()}"))}; warm-up {settings.WarmUp.TotalSeconds} s excluded");
            using var bounded = CancellationTokenSource.CreateLinkedTokenSource(ct);
            bounded.CancelAfter(total + TimeSpan.FromSeconds(60));
            var stats = await new Runner(client).RunAsync(list, bounded.Token);

            var results = new List<(Threshold, StepStats, bool)>();
            foreach (var t in checks)
            {
                foreach (var s in stats.Where(s => t.Step is null || t.Step == s.Step || t.Step == s.Scenario))
                {
                    results.Add((t, s, t.Holds(s)));
                }
            }
            var title = $"Load test {DateTimeOffset.UtcNow:yyyy-MM-dd HH:mm} UTC: {string.Join(", ", list.Select(s => $"{s.Name} ({s.Simulations[0].Describe()})"))}";
            var markdown = Report.Markdown(stats, title, results);
            var folder = parse.GetValue(output)!;
            folder.Create();
            await File.WriteAllTextAsync(Path.Combine(folder.FullName, "report.md"), markdown, ct);
            await File.WriteAllTextAsync(Path.Combine(folder.FullName, "report.html"), Report.Html(stats, title, Report.Table(stats)), ct);
            Console.Write(Report.Table(stats));
            if (backoff.Throttled > 0)
            {
                Console.WriteLine($"rate-limited: {backoff.Throttled} answers 429; {backoff.Held} requests held back as they asked (counted as failed)");
            }
            foreach (var (t, s, holds) in results.Where(r => !r.Item3))
            {
                Console.WriteLine($"threshold broken: {t.Text} on {s.Scenario}/{s.Step}: {t.Measure(s):0.####}");
            }
            Console.WriteLine($"report: {Path.Combine(folder.FullName, "report.md")} and report.html");
            return results.Any(r => !r.Item3) ? 1 : 0;
        });
        root.Subcommands.Add(run);

        var data = new Option<DirectoryInfo>("--data") { Required = true, Description = "the data folder to fill (then start the service on it)" };
        var profiles = new Option<int>("--profiles") { DefaultValueFactory = _ => 1_000_000 };
        var seedItems = new Option<int>("--items") { DefaultValueFactory = _ => 10_000 };
        var views = new Option<int>("--views") { DefaultValueFactory = _ => 2, Description = "product views per visitor" };
        var memory = new Option<int>("--memory-mb") { DefaultValueFactory = _ => 1024, Description = "Faster:MemoryMb of the profile store" };
        var seed = new Command("seed", "Fill a data folder through the engine: catalogue, slots, profiles, a trained model.") { data, profiles, seedItems, views, memory };
        seed.SetAction(async (parse, ct) =>
        {
            await Seeder.RunAsync(parse.GetValue(data)!.FullName, parse.GetValue(profiles), parse.GetValue(seedItems), parse.GetValue(views), parse.GetValue(memory), Console.Out, ct);
            return 0;
        });
        root.Subcommands.Add(seed);

        return await root.Parse(args).InvokeAsync();
    }
}
