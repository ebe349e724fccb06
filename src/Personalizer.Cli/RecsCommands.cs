using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using Personalizer.Engine.Recommendations;

namespace Personalizer.Cli;

/// <summary><c>recs evaluate</c> and <c>recs generate</c>.</summary>
internal static class RecsCommands
{
    public static Command Create()
    {
        var recs = new Command("recs", "Recommendation models: offline evaluation, synthetic data.");
        recs.Subcommands.Add(Evaluate());
        recs.Subcommands.Add(Generate());
        recs.Subcommands.Add(RecsTuneCommand.Create());
        return recs;
    }

    private static Command Evaluate()
    {
        var ratings = new Option<FileInfo>("--ratings") { Description = "u.data (tab), ratings.dat (::) or ratings.csv" };
        var events = new Option<FileInfo>("--events") { Description = "an event export (JSON lines) written by 'events export'" };
        var minRating = new Option<float>("--min-rating") { Description = "keep ratings at or above this value (default: all)", DefaultValueFactory = _ => 0 };
        var testFraction = new Option<double>("--test-fraction") { DefaultValueFactory = _ => 0.25, Description = "share of each user's interactions held out" };
        var seed = new Option<int>("--seed") { DefaultValueFactory = _ => 42 };
        var k = new Option<int>("--k") { DefaultValueFactory = _ => 10 };
        var factors = new Option<int>("--factors") { DefaultValueFactory = _ => new RecommendationOptions().Factors, Description = "default: the service's" };
        var iterations = new Option<int>("--iterations") { DefaultValueFactory = _ => 15 };
        var regularization = new Option<float>("--regularization") { DefaultValueFactory = _ => new RecommendationOptions().Regularization, Description = "default: the service's" };
        var alpha = new Option<float>("--alpha") { DefaultValueFactory = _ => new RecommendationOptions().Alpha, Description = "default: the service's" };
        var cgSteps = new Option<int>("--cg-steps") { DefaultValueFactory = _ => new AlsOptions().ConjugateGradientSteps, Description = "conjugate-gradient steps per row and iteration (als only)" };
        var http = new Option<string>("--http") { Description = "also replay the split through a running service at this URL (catalogue, purchases imported, model trained, lists asked over HTTP); use an empty site" };
        var adminKey = new Option<string>("--admin-key") { DefaultValueFactory = _ => "demo-admin-key" };
        var siteKey = new Option<string>("--site-key") { DefaultValueFactory = _ => "demo-site-key" };
        var itemsFile = new Option<FileInfo>("--items") { Description = "u.item, for the catalogue's titles and genre names (with u.genre beside it)" };
        var json = new Option<bool>("--json") { Description = "print one JSON object keyed by model name" };
        var weighted = new Option<bool>("--weighted-regularization") { DefaultValueFactory = _ => true, Description = "ALS-WR: λ times each row's interaction count (false: one λ for all)" };
        var models = new Option<string>("--models") { DefaultValueFactory = _ => "served,als,popularity,itemknn", Description = "comma-separated: served (the service's own path: training interactions as purchases, the service's trainer, profiles folded as the service folds them, its personalized scorer), als, popularity, itemknn" };
        var command = new Command("evaluate", "Compare ALS with popularity and item-kNN on a per-user random split.")
        {
            ratings, events, minRating, testFraction, seed, k, factors, iterations, regularization, alpha, json, models, weighted, cgSteps, http, adminKey, siteKey, itemsFile,
        };
        command.SetAction(parse =>
        {
            var file = parse.GetValue(ratings) ?? parse.GetValue(events);
            if (file is null || (parse.GetValue(ratings) is not null && parse.GetValue(events) is not null))
            {
                Console.Error.WriteLine("recs evaluate: give exactly one of --ratings FILE or --events FILE");
                return 2;
            }
            if (!file.Exists)
            {
                Console.Error.WriteLine($"recs evaluate: no such file '{file.FullName}'");
                return 2;
            }
            var data = parse.GetValue(events) is not null
                ? OfflineEvaluation.ReadEvents(file.FullName, new InteractionWeights())
                : OfflineEvaluation.ReadRatings(file.FullName, parse.GetValue(minRating));
            var evaluation = new OfflineEvaluation(data, parse.GetValue(testFraction), parse.GetValue(seed), parse.GetValue(k));
            var options = new AlsOptions(parse.GetValue(factors), parse.GetValue(regularization), parse.GetValue(alpha), parse.GetValue(iterations), Seed: parse.GetValue(seed), WeightedRegularization: parse.GetValue(weighted), ConjugateGradientSteps: parse.GetValue(cgSteps));
            var wanted = parse.GetValue(models)!.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
            var unknown = wanted.Except(["served", "als", "popularity", "itemknn"]).ToArray();
            if (unknown.Length > 0)
            {
                Console.Error.WriteLine($"recs evaluate: unknown model(s) {string.Join(", ", unknown)}; expected served, als, popularity, itemknn");
                return 2;
            }
            var results = wanted.Select(m => m switch
            {
                "served" => ServedEvaluation.Run(evaluation, new RecommendationOptions
                {
                    Factors = options.Factors,
                    Regularization = options.Regularization,
                    Alpha = options.Alpha,
                    Iterations = options.Iterations,
                    Seed = options.Seed,
                    WeightedRegularization = options.WeightedRegularization,
                }),
                "als" => evaluation.Als(options),
                "popularity" => evaluation.Popularity(),
                _ => evaluation.ItemKnn(),
            }).ToList();
            string? repeats = null;
            if (parse.GetValue(http) is { } url)
            {
                var (replayed, repeatUsers, repeatItems) = HttpReplay.RunAsync(evaluation, new Uri(url), parse.GetValue(adminKey)!, parse.GetValue(siteKey)!,
                    parse.GetValue(itemsFile), parse.GetValue(k), CancellationToken.None).GetAwaiter().GetResult();
                results.Add(replayed);
                repeats = $"over HTTP: {repeatItems} already-bought items recommended, to {repeatUsers} of {evaluation.UserCount} users";
            }
            if (parse.GetValue(json))
            {
                Console.WriteLine(JsonSerializer.Serialize(results.ToDictionary(r => r.Model, r => r.ToDictionary()), CliJson.Default.DictionaryStringIReadOnlyDictionaryStringDouble));
                return 0;
            }
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"{data.Count} interactions, {evaluation.UserCount} users, {evaluation.ItemCount} items; train {evaluation.TrainCount}; k = {parse.GetValue(k)}"));
            Console.WriteLine($"{"model",-12}{"precision",12}{"recall",10}{"ndcg",10}{"map",10}{"coverage",10}{"train s",10}");
            foreach (var r in results)
            {
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{r.Model,-12}{r.Precision,12:F4}{r.Recall,10:F4}{r.Ndcg,10:F4}{r.Map,10:F4}{r.Coverage,10:F4}{r.TrainingSeconds,10:F2}"));
            }
            if (repeats is not null)
            {
                Console.WriteLine(repeats);
            }
            return 0;
        });
        return command;
    }

    private static Command Generate()
    {
        var users = new Option<int>("--users") { Required = true };
        var items = new Option<int>("--items") { Required = true };
        var interactions = new Option<int>("--interactions") { Required = true };
        var seed = new Option<int>("--seed") { DefaultValueFactory = _ => 42 };
        var output = new Option<FileInfo>("--out") { Required = true };
        var command = new Command("generate", "Write a synthetic data set with planted low-rank structure, in the u.data layout.")
        {
            users, items, interactions, seed, output,
        };
        command.SetAction(parse =>
        {
            var rows = SyntheticData.Generate(parse.GetValue(users), parse.GetValue(items), parse.GetValue(interactions), parse.GetValue(seed));
            using var writer = new StreamWriter(parse.GetValue(output)!.FullName);
            foreach (var r in rows)
            {
                writer.Write(r.User);
                writer.Write('\t');
                writer.Write(r.Item);
                writer.Write("\t1\t");
                writer.WriteLine(r.Timestamp.ToString(CultureInfo.InvariantCulture));
            }
            Console.WriteLine($"wrote {rows.Count} interactions to {parse.GetValue(output)!.FullName}");
            return 0;
        });
        return command;
    }
}

[System.Text.Json.Serialization.JsonSerializable(typeof(Dictionary<string, IReadOnlyDictionary<string, double>>))]
[System.Text.Json.Serialization.JsonSourceGenerationOptions(WriteIndented = true)]
internal sealed partial class CliJson : System.Text.Json.Serialization.JsonSerializerContext;
