using System.Text.Json;
using Personalizer.Engine.Strategies;

namespace Personalizer.Api.Decisions;

/// <summary>
/// A decide's answer written straight from the engine's <see cref="Decision"/> to the response, in the shape of
/// <see cref="DecideResponse"/> (camelCase, nulls left out): no response objects are built and no serializer
/// metadata is walked. The serializer's path, through the options the host resolves types with, cost as much
/// as a quarter of a decide's time on the server (it could not use the source generator's fast path there).
/// </summary>
internal sealed class DecisionWriter(Decision decision) : IResult
{
    private static readonly JsonWriterOptions Options = new() { SkipValidation = true };
    private static readonly JsonEncodedText CategoriesName = JsonEncodedText.Encode("categories");
    private static readonly JsonEncodedText ConfigVersionName = JsonEncodedText.Encode("configVersion");
    private static readonly JsonEncodedText ContentName = JsonEncodedText.Encode("content");
    private static readonly JsonEncodedText CurrencyName = JsonEncodedText.Encode("currency");
    private static readonly JsonEncodedText DecisionIdName = JsonEncodedText.Encode("decisionId");
    private static readonly JsonEncodedText DetailName = JsonEncodedText.Encode("detail");
    private static readonly JsonEncodedText FallbackStepName = JsonEncodedText.Encode("fallbackStep");
    private static readonly JsonEncodedText ImageUrlName = JsonEncodedText.Encode("imageUrl");
    private static readonly JsonEncodedText ItemIdName = JsonEncodedText.Encode("itemId");
    private static readonly JsonEncodedText ItemsName = JsonEncodedText.Encode("items");
    private static readonly JsonEncodedText OutcomeName = JsonEncodedText.Encode("outcome");
    private static readonly JsonEncodedText PriceName = JsonEncodedText.Encode("price");
    private static readonly JsonEncodedText ReasonName = JsonEncodedText.Encode("reason");
    private static readonly JsonEncodedText ScoreName = JsonEncodedText.Encode("score");
    private static readonly JsonEncodedText SlotsName = JsonEncodedText.Encode("slots");
    private static readonly JsonEncodedText SourceName = JsonEncodedText.Encode("source");
    private static readonly JsonEncodedText StrategyName = JsonEncodedText.Encode("strategy");
    private static readonly JsonEncodedText TitleName = JsonEncodedText.Encode("title");
    private static readonly JsonEncodedText TraceName = JsonEncodedText.Encode("trace");
    private static readonly JsonEncodedText UnknownSlotsName = JsonEncodedText.Encode("unknownSlots");
    private static readonly JsonEncodedText UrlName = JsonEncodedText.Encode("url");
    private static readonly JsonEncodedText VariantName = JsonEncodedText.Encode("variant");

    public async Task ExecuteAsync(HttpContext http)
    {
        http.Response.StatusCode = StatusCodes.Status200OK;
        http.Response.ContentType = "application/json; charset=utf-8";
        using (var writer = new Utf8JsonWriter(http.Response.BodyWriter, Options))
        {
            Write(writer, decision);
        }
        await http.Response.BodyWriter.FlushAsync(http.RequestAborted);
    }

    public static void Write(Utf8JsonWriter w, Decision decision)
    {
        w.WriteStartObject();
        w.WriteString(DecisionIdName, decision.DecisionId);
        w.WriteStartObject(SlotsName);
        foreach (var s in decision.Slots)
        {
            w.WriteStartObject(s.SlotId);
            if (s.Variant is { } variant)
            {
                w.WriteString(VariantName, variant.Id);
                w.WritePropertyName(ContentName);
                variant.Content.WriteTo(w);
            }
            if (s.Items is { } items)
            {
                w.WriteStartArray(ItemsName);
                foreach (var r in items)
                {
                    var item = r.Item;
                    w.WriteStartObject();
                    w.WriteString(ItemIdName, item.Id);
                    w.WriteNumber(ScoreName, r.Score);
                    w.WriteString(TitleName, item.Title);
                    w.WriteNumber(PriceName, item.Price);
                    WriteIfSet(w, CurrencyName, item.Currency);
                    WriteIfSet(w, UrlName, item.Url);
                    WriteIfSet(w, ImageUrlName, item.ImageUrl);
                    w.WriteStartArray(CategoriesName);
                    foreach (var c in item.Categories)
                    {
                        w.WriteStringValue(c);
                    }
                    w.WriteEndArray();
                    w.WriteEndObject();
                }
                w.WriteEndArray();
            }
            w.WriteString(SourceName, s.Source);
            WriteIfSet(w, ReasonName, s.Reason);
            WriteIfSet(w, FallbackStepName, s.FallbackStep);
            if (s.Trace is { } trace)
            {
                w.WriteStartArray(TraceName);
                foreach (var t in trace)
                {
                    w.WriteStartObject();
                    w.WriteString(StrategyName, t.Strategy);
                    w.WriteString(OutcomeName, t.Outcome);
                    WriteIfSet(w, DetailName, t.Detail);
                    w.WriteEndObject();
                }
                w.WriteEndArray();
            }
            w.WriteEndObject();
        }
        w.WriteEndObject();
        w.WriteNumber(ConfigVersionName, decision.ConfigurationVersion);
        if (decision.UnknownSlots.Count > 0)
        {
            w.WriteStartArray(UnknownSlotsName);
            foreach (var id in decision.UnknownSlots)
            {
                w.WriteStringValue(id);
            }
            w.WriteEndArray();
        }
        w.WriteEndObject();
    }

    private static void WriteIfSet(Utf8JsonWriter w, JsonEncodedText name, string? value)
    {
        if (value is not null)
        {
            w.WriteString(name, value);
        }
    }
}
