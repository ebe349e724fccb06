using System.Text.Json;
using System.Text.Json.Serialization;
using Personalizer.Api.Decisions;
using Personalizer.Engine.Catalog;
using Personalizer.Engine.Configuration;
using Personalizer.Engine.Strategies;

namespace Personalizer.Api.Tests.Decisions;

/// <summary>The decide answer written by hand is byte for byte what the serializer makes of <see cref="DecideResponse"/>.</summary>
public sealed class DecisionWriterTests
{
    private static readonly JsonSerializerOptions Http = new(JsonSerializerDefaults.Web)
    {
        TypeInfoResolver = ApiJsonContext.Default,
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    };

    [Fact]
    public void EveryFieldIsWrittenAsTheContractSerializesIt()
    {
        var shoe = new CatalogItem { Id = "shoe-1", Title = "Trail \"Pro\" <b>shoe</b> é", Categories = ["Running", "Home & Garden"], Price = 89.95, Currency = "EUR", Url = "/p/shoe-1", ImageUrl = "https://img/s.png" };
        var bare = new CatalogItem { Id = "sock", Title = "Sock", Categories = [], Price = 0 };
        var decision = new Decision
        {
            DecisionId = "d-1",
            ConfigurationVersion = 7,
            UnknownSlots = ["nope"],
            Slots =
            [
                new SlotDecision
                {
                    SlotId = "home-hero",
                    Variant = new SlotVariant { Id = "vip", ContentJson = """{"title":"Welcome <back>","n":[1,2.5,{"x":null}],"ok":true}""" },
                    Source = "rule:vip",
                    Trace = [new TraceStep("rules", "answered", "won"), new TraceStep("default", "skipped")],
                },
                new SlotDecision
                {
                    SlotId = "home-recs",
                    Items = [new RecommendedItem(shoe, 0.0069), new RecommendedItem(bare, 1e-7)],
                    Source = "fallback",
                    Reason = "timeout",
                    FallbackStep = "trending",
                },
            ],
        };

        AssertWrittenAsSerialized(decision);
    }

    [Fact]
    public void NoUnknownSlotsAndNoTraceLeaveTheirFieldsOut()
    {
        var decision = new Decision
        {
            DecisionId = "d-2",
            UnknownSlots = [],
            Slots = [new SlotDecision { SlotId = "offer", Variant = new SlotVariant { Id = "a", ContentJson = "{}" }, Source = "default" }],
        };

        AssertWrittenAsSerialized(decision);
    }

    private static void AssertWrittenAsSerialized(Decision decision)
    {
        using var buffer = new MemoryStream();
        using (var writer = new Utf8JsonWriter(buffer))
        {
            DecisionWriter.Write(writer, decision);
        }
        Assert.Equal(JsonSerializer.Serialize(decision.ToResponse(), Http), System.Text.Encoding.UTF8.GetString(buffer.ToArray()));
    }
}
