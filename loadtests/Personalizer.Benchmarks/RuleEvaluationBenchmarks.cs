using System.Globalization;
using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Jobs;
using BenchmarkDotNet.Toolchains.InProcess.Emit;
using Personalizer.Engine.Catalog;
using Personalizer.Engine.Decisions;
using Personalizer.Engine.Profiles;
using Personalizer.Engine.Rules;
using RulesEngine.Models;

namespace Personalizer.Benchmarks;

/// <summary>
/// 1,000 rules against one visitor: our compiled conditions, and the same conditions in Microsoft's
/// RulesEngine (Dynamic LINQ lambdas, compiled and cached by it). Run:
/// <c>dotnet run -c Release --project loadtests/Personalizer.Benchmarks -- --filter *RuleEvaluation*</c>
/// </summary>
[MemoryDiagnoser]
[Config(typeof(Config))]
public class RuleEvaluationBenchmarks
{
    public const int Rules = 1000;

    private CompiledCondition[] _compiled = [];
    private EvalContext _context = null!;
    private RulesEngine.RulesEngine _rulesEngine = null!;
    private RuleParameter[] _input = [];
    private VisitorProfile _profile = null!;
    private RequestContext _request = null!;
    private CatalogSnapshot _catalog = null!;

    private sealed class Config : ManualConfig
    {
        public Config() => AddJob(Job.Default.WithToolchain(InProcessEmitToolchain.Instance).WithWarmupCount(3).WithIterationCount(8));
    }

    /// <summary>The input RulesEngine sees: the same facts as our profile and context.</summary>
    public sealed class Visitor
    {
        public double Orders { get; set; }
        public double Revenue { get; set; }
        public double CartValue { get; set; }
        public string Device { get; set; } = "";
        public string Country { get; set; } = "";
        public string Url { get; set; } = "";
    }

    [GlobalSetup]
    public void Setup()
    {
        _profile = new VisitorProfile
        {
            VisitorId = "v-1",
            Orders = 2,
            Revenue = 180,
            Cart = [new CartLine { ItemId = "sku-1", Quantity = 1, Price = 75 }],
        };
        _request = new RequestContext { Device = "desktop", Country = "DE", Url = "https://shop.example/sale/shoes" };
        _catalog = new CatalogSnapshot([]);
        _context = new EvalContext(_profile, _request, _catalog, DateTimeOffset.UtcNow.ToUnixTimeMilliseconds(), CompiledSegments.Empty);

        var ours = new List<CompiledCondition>(Rules);
        var theirs = new List<Rule>(Rules);
        for (var i = 0; i < Rules; i++)
        {
            var n = (i % 50).ToString(CultureInfo.InvariantCulture);
            var (condition, expression) = (i % 4) switch
            {
                0 => ($"profile.orders >= {i % 5} and context.device == 'mobile'", $"input1.Orders >= {i % 5} AND input1.Device == \"mobile\""),
                1 => ($"profile.cart.value > {n}0 or profile.revenue > 1000", $"input1.CartValue > {n}0 OR input1.Revenue > 1000"),
                2 => ($"context.country in ['AT', 'CH', 'FR'] and not (profile.orders < 1)", "(input1.Country == \"AT\" OR input1.Country == \"CH\" OR input1.Country == \"FR\") AND NOT (input1.Orders < 1)"),
                _ => ($"context.url startsWith 'https://shop.example/p/{n}'", $"input1.Url.StartsWith(\"https://shop.example/p/{n}\")"),
            };
            ours.Add(ConditionCompiler.Compile(condition, _ => null).Condition ?? throw new InvalidOperationException(condition));
            theirs.Add(new Rule { RuleName = $"r{i}", Expression = expression, RuleExpressionType = RuleExpressionType.LambdaExpression });
        }
        _compiled = [.. ours];
        _rulesEngine = new RulesEngine.RulesEngine([new Workflow { WorkflowName = "rules", Rules = theirs }], new ReSettings());
        _input = [new RuleParameter("input1", new Visitor { Orders = 2, Revenue = 180, CartValue = 75, Device = "desktop", Country = "DE", Url = _request.Url! })];
        if (CompiledRules() != RulesEngineRules())
        {
            throw new InvalidOperationException("The two engines disagree on the same rules.");
        }
    }

    /// <summary>Our 1,000 compiled rules against one evaluation context (one per decide).</summary>
    [Benchmark(Baseline = true, OperationsPerInvoke = Rules)]
    public int CompiledRules()
    {
        var held = 0;
        foreach (var rule in _compiled)
        {
            if (rule.Evaluate(_context))
            {
                held++;
            }
        }
        return held;
    }

    /// <summary>The same with a fresh evaluation context, as a decide makes one.</summary>
    [Benchmark(OperationsPerInvoke = Rules)]
    public int CompiledRulesWithNewContext()
    {
        var context = new EvalContext(_profile, _request, _catalog, 0, CompiledSegments.Empty);
        var held = 0;
        foreach (var rule in _compiled)
        {
            if (rule.Evaluate(context))
            {
                held++;
            }
        }
        return held;
    }

    /// <summary>Microsoft RulesEngine 6.0.1 evaluating the same 1,000 rules on the same facts.</summary>
    [Benchmark(OperationsPerInvoke = Rules)]
    public int RulesEngineRules()
    {
        var results = _rulesEngine.ExecuteAllRulesAsync("rules", _input).AsTask().GetAwaiter().GetResult();
        var held = 0;
        foreach (var r in results)
        {
            if (r.IsSuccess)
            {
                held++;
            }
        }
        return held;
    }
}
