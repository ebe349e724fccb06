using Personalizer.Engine.Catalog;
using Personalizer.Engine.Decisions;
using Personalizer.Engine.Profiles;
using Personalizer.Engine.Rules;
using static Personalizer.Engine.Tests.TestData;

namespace Personalizer.Engine.Tests.Rules;

public sealed class ConditionTests
{
    private static readonly CatalogSnapshot Catalog = new([Item("shoe", "running"), Item("mat", "yoga")]);

    private static VisitorProfile Shopper() => new()
    {
        VisitorId = "v",
        Orders = 3,
        Revenue = 420,
        LastOrderAt = T0 - 10 * 86_400_000L,
        FirstSeen = T0 - 100 * 86_400_000L,
        Cart = [new CartLine { ItemId = "mat", Quantity = 2, Price = 30 }],
        RecentlyViewed = [new ViewedItem { ItemId = "shoe", At = T0 - 3_600_000 }],
        PurchasedItems = ["shoe"],
        Affinity = [new CategoryAffinity { Category = "running", Score = 5, UpdatedAt = T0 }, new CategoryAffinity { Category = "yoga", Score = 2, UpdatedAt = T0 }],
    };

    private static EvalContext Context(VisitorProfile? profile = null, CompiledSegments? segments = null) => new(
        profile ?? Shopper(),
        new RequestContext { Url = "https://shop.example/sale/shoes", Device = "mobile", Country = "DE", Utm = new Dictionary<string, string> { ["campaign"] = "spring" }, Attributes = new Dictionary<string, string> { ["pageType"] = "home" } },
        Catalog, T0, segments ?? CompiledSegments.Empty);

    private static bool Eval(string condition, EvalContext? context = null)
    {
        var result = ConditionCompiler.Compile(condition, _ => null);
        Assert.True(result.Ok, string.Join("; ", result.Errors));
        return result.Condition!.Evaluate(context ?? Context());
    }

    [Theory]
    [InlineData("profile.orders >= 3 and context.device == 'mobile'", true)]
    [InlineData("profile.orders >= 3 and context.device == 'desktop'", false)]
    [InlineData("profile.cart.value > 50 and not profile.identified", true)]
    [InlineData("profile.affinity.top == 'running' or context.url startsWith '/sale'", true)]
    [InlineData("context.url contains '/SALE/'", true)]
    [InlineData("context.url endsWith 'shoes'", true)]
    [InlineData("context.country in ['DE', 'AT', 'CH']", true)]
    [InlineData("profile.orders in [1, 2]", false)]
    [InlineData("profile.daysSinceLastPurchase > 5 and profile.daysSinceLastPurchase < 11", true)]
    [InlineData("profile.purchasedItems contains 'shoe'", true)]
    [InlineData("profile.cartItems contains 'shoe'", false)]
    [InlineData("viewed('running', 2h)", true)]
    [InlineData("viewed('running', 30m)", false)]
    [InlineData("viewed('shoe')", true)]
    [InlineData("inCart('yoga') and not inCart('running')", true)]
    [InlineData("purchased('running')", true)]
    [InlineData("context.utm.campaign == 'spring' and context.pageType == 'home'", true)]
    [InlineData("context.utm.medium == ''", true)]
    [InlineData("context.url matches '^https://[a-z.]+/sale/'", true)]
    [InlineData("now.date >= '2026-11-01' and now.hour == 12 and now.weekday == 'sunday'", true)]
    [InlineData("not (profile.orders < 3)", true)]
    [InlineData("true and (false or profile.revenue == 420)", true)]
    public void ConditionsEvaluateAgainstProfileAndContext(string condition, bool expected)
    {
        Assert.Equal(expected, Eval(condition));
    }

    [Fact]
    public void ANewVisitorReadsNeutralValues()
    {
        var context = new EvalContext(null, RequestContext.Empty, Catalog, T0, CompiledSegments.Empty);

        Assert.True(Eval("profile.orders == 0 and profile.daysSinceLastPurchase > 1000 and profile.affinity.top == '' and not profile.known", context));
    }

    [Theory]
    [InlineData("profile.orders >= ", 1, 19, "expected a value")]
    [InlineData("profile.orders >= 3 and\n  context.device = 'mobile'", 2, 18, "write '=='")]
    [InlineData("profile.orders == 'three'", 1, 16, "cannot compare a number with a string")]
    [InlineData("profile.order > 1", 1, 1, "did you mean 'profile.orders'")]
    [InlineData("(profile.orders > 1", 1, 20, "expected ')'")]
    [InlineData("context.device == 'mobile", 1, 19, "closing")]
    [InlineData("profile.orders", 1, 1, "true or false")]
    [InlineData("segment('vip')", 1, 9, "unknown segment 'vip'")]
    [InlineData("viewed('x', 'y')", 1, 13, "duration")]
    [InlineData("context.url matches '('", 1, 21, "regular expression")]
    [InlineData("teleport('x')", 1, 1, "unknown function")]
    [InlineData("profile.orders > 3 profile.revenue", 1, 20, "expected 'and', 'or'")]
    [InlineData("3x > 1", 1, 2, "duration unit")]
    public void ErrorsNameLineColumnAndWhatWasExpected(string condition, int line, int column, string message)
    {
        var result = ConditionCompiler.Compile(condition, _ => null);

        var error = Assert.Single(result.Errors);
        Assert.Equal((line, column), (error.Line, error.Column));
        Assert.Contains(message, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void SegmentsAreSharedAndEvaluatedOncePerContext()
    {
        var (segments, errors) = CompiledSegments.Build(new Dictionary<string, string>
        {
            ["big-spenders"] = "profile.revenue > 400",
            ["vip"] = "segment('big-spenders') and profile.orders >= 3",
        });
        Assert.Empty(errors);
        var rule = ConditionCompiler.Compile("segment('vip') and context.device == 'mobile'", id => segments.Index.TryGetValue(id, out var i) ? i : null);

        Assert.True(rule.Condition!.Evaluate(Context(segments: segments)));
        Assert.Equal(["vip"], rule.Condition.SegmentsUsed);
    }

    [Fact]
    public void ASegmentThatReachesItselfIsRefused()
    {
        var (_, errors) = CompiledSegments.Build(new Dictionary<string, string>
        {
            ["a"] = "segment('b')",
            ["b"] = "segment('a') or profile.orders > 1",
        });

        Assert.Contains("a", errors.Keys);
        Assert.Contains("b", errors.Keys);
    }

    [Fact]
    public void DeepNestingIsAnErrorNotAStackOverflow()
    {
        var deep = new string('(', 10_000) + "true" + new string(')', 10_000);
        var result = ConditionCompiler.Compile(deep[..4000], _ => null);

        Assert.False(result.Ok);
        Assert.Contains("nesting", Assert.Single(result.Errors).Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("item.attributes.weight < 1", true)]
    [InlineData("item.attributes.weight >= 1", false)]
    [InlineData("item.attributes.waterproof", true)]
    [InlineData("not item.attributes.organic", true)]
    [InlineData("item.attributes.material == 'NYLON'", true)]
    [InlineData("item.attributes.sizes contains 'l'", true)]
    [InlineData("item.attributes.sizes contains 'xl'", false)]
    [InlineData("item.attributes.colour == 'red'", false)]
    [InlineData("item.attributes.colour != 'red'", true)]
    [InlineData("item.attributes.material < 3", false)]
    [InlineData("item.price < 100 and item.inStock and item.categories contains 'running'", true)]
    [InlineData("item.category == profile.affinity.top", true)]
    [InlineData("item.brand in ['Peak', 'Summit'] and item.tags contains 'sale'", true)]
    public void AnItemConditionReadsTheItemAndTypesAttributesByWhatTheyMeet(string condition, bool expected)
    {
        var jacket = new CatalogItem
        {
            Id = "jacket", Title = "Shell", Categories = ["running"], Price = 99, Brand = "Summit", Tags = ["sale"],
            AttributesJson = """{"weight":0.45,"waterproof":true,"organic":false,"material":"nylon","sizes":["M","L"]}""",
        };
        var compiled = ConditionCompiler.Compile(condition, _ => null, items: true);
        Assert.True(compiled.Ok, string.Join("; ", compiled.Errors));

        Assert.Equal(expected, Context().Holds(compiled.Condition!, jacket));
    }

    [Fact]
    public void ItemFieldsAreRefusedOutsideAnItemConditionAndMisspeltOnesAreNamed()
    {
        var outside = ConditionCompiler.Compile("item.price < 3", _ => null);
        Assert.Contains("only a recommendation rule's then.items", outside.Errors[0].Message);
        var misspelt = ConditionCompiler.Compile("item.colour == 'red'", _ => null, items: true);
        Assert.Contains("item.attributes.NAME", misspelt.Errors[0].Message);
    }
}
