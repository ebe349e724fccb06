using System.Text.Json;
using Personalizer.Engine.Configuration;

namespace Personalizer.Engine.Tests.Configuration;

public sealed class SlotVariantTests
{
    /// <summary>
    /// The first decides after a start read a variant's content on several threads at once: each must see the
    /// whole parsed document (a torn read once answered 500 with "Operation is not valid due to the current state").
    /// </summary>
    [Fact]
    public void ContentParsedOnFirstUseIsWholeOnEveryThread()
    {
        var variants = Enumerable.Range(0, 5_000).Select(i => new SlotVariant { Id = $"v{i}", ContentJson = $$"""{"title":"T{{i}}"}""" }).ToArray();
        var failures = 0;
        using var start = new Barrier(2);
        var threads = Enumerable.Range(0, 2).Select(_ => new Thread(() =>
        {
            for (var i = 0; i < variants.Length; i++)
            {
                start.SignalAndWait(); // every thread meets the same variant's first use
                try
                {
                    if (variants[i].Content.GetProperty("title").GetString() != $"T{i}")
                    {
                        Interlocked.Increment(ref failures);
                    }
                }
                catch (InvalidOperationException)
                {
                    Interlocked.Increment(ref failures);
                }
            }
        })).ToList();
        threads.ForEach(t => t.Start());
        threads.ForEach(t => t.Join());
        Assert.Equal(0, failures);
        Assert.Equal(JsonValueKind.Object, variants[0].Content.ValueKind);
    }
}
