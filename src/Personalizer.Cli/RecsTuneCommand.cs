using System.CommandLine;
using System.Globalization;
using Personalizer.Engine.Recommendations;

namespace Personalizer.Cli;

/// <summary>
/// <c>recs tune</c>: chooses factors, λ and α for the served path on a validation split cut from the
/// training part only (each user's training interactions split again 75/25 with another seed), so the
/// test part is never looked at; then reports the chosen setting once on the test part.
/// </summary>
internal static class RecsTuneCommand
{
    public static Command Create()
    {
        var ratings = new Option<FileInfo>("--ratings") { Required = true, Description = "u.data (tab), ratings.dat (::) or ratings.csv" };
        var testFraction = new Option<double>("--test-fraction") { DefaultValueFactory = _ => 0.25 };
        var seed = new Option<int>("--seed") { DefaultValueFactory = _ => 42 };
        var factors = new Option<string>("--factors") { DefaultValueFactory = _ => "32,64,128" };
        var regularization = new Option<string>("--regularization") { DefaultValueFactory = _ => "0.1,0.15,0.2,0.3" };
        var alpha = new Option<string>("--alpha") { DefaultValueFactory = _ => "0.1,0.2,0.4,1" };
        var command = new Command("tune", "Grid-search the served model on a validation split cut from the training part; report the winner on the test part.")
        {
            ratings, testFraction, seed, factors, regularization, alpha,
        };
        command.SetAction(parse =>
        {
            var file = parse.GetValue(ratings)!;
            if (!file.Exists)
            {
                Console.Error.WriteLine($"recs tune: no such file '{file.FullName}'");
                return 2;
            }
            var seedValue = parse.GetValue(seed);
            var test = new OfflineEvaluation(OfflineEvaluation.ReadRatings(file.FullName), parse.GetValue(testFraction), seedValue, 10);
            var trainOnly = test.TrainPairs.Select(p => new Rating(test.UserIds[p.User], test.ItemIds[p.Item], 1, p.Timestamp)).ToList();
            var validation = new OfflineEvaluation(trainOnly, 0.25, seedValue + 1, 10);
            Console.WriteLine($"{"factors",8}{"lambda",8}{"alpha",8}{"val p@10",10}{"val ndcg",10}");
            (RecommendationOptions Options, double Ndcg)? best = null;
            foreach (var f in Numbers(parse.GetValue(factors)!))
            {
                foreach (var l in Numbers(parse.GetValue(regularization)!))
                {
                    foreach (var a in Numbers(parse.GetValue(alpha)!))
                    {
                        var options = new RecommendationOptions { Factors = (int)f, Regularization = l, Alpha = a, Seed = seedValue };
                        var r = ServedEvaluation.Run(validation, options);
                        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{f,8}{l,8}{a,8}{r.Precision,10:F4}{r.Ndcg,10:F4}"));
                        if (best is null || r.Ndcg > best.Value.Ndcg)
                        {
                            best = (options, r.Ndcg);
                        }
                    }
                }
            }
            var chosen = best!.Value.Options;
            var final = ServedEvaluation.Run(test, chosen);
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"chosen on validation: factors {chosen.Factors}, lambda {chosen.Regularization}, alpha {chosen.Alpha}; test: precision@10 {final.Precision:F4}, ndcg@10 {final.Ndcg:F4}"));
            return 0;
        });
        return command;
    }

    private static IEnumerable<float> Numbers(string list) =>
        list.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Select(v => float.Parse(v, CultureInfo.InvariantCulture));
}
