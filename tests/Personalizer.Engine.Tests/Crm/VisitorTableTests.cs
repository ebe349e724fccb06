using Personalizer.Engine.Crm;

namespace Personalizer.Engine.Tests.Crm;

public sealed class VisitorTableTests
{
    /// <summary>
    /// Enough ids to fill several of the table's 1 MiB chunks: each is found once with its value, ids it does not hold are not
    /// found (nor are ones differing by a character or a length), and what is left unclaimed is counted by value.
    /// </summary>
    [Fact]
    public void EachIdIsFoundOnceWithItsValueAndTheRestAreCounted()
    {
        const int n = 300_000;
        var table = new VisitorTable();
        for (var i = 0; i < n; i++)
        {
            Assert.True(table.TryAdd($"visitor-{i:D7}", (byte)(i % 5)));
        }
        table.Index();

        var claimedAtLeast3 = 0;
        for (var i = 0; i < n; i += 3)
        {
            Assert.True(table.TryClaim($"visitor-{i:D7}", out var value), $"visitor-{i:D7}");
            Assert.Equal((byte)(i % 5), value);
            Assert.False(table.TryClaim($"visitor-{i:D7}", out _)); // claimed already
            claimedAtLeast3 += i % 5 >= 3 ? 1 : 0;
        }
        Assert.False(table.TryClaim("visitor-9999999", out _));
        Assert.False(table.TryClaim("visitor-000001", out _));
        Assert.False(table.TryClaim("visitor-00000011", out _));
        Assert.False(table.TryClaim("Visitor-0000001", out _));

        var atLeast3 = Enumerable.Range(0, n).Count(i => i % 5 >= 3);
        Assert.Equal((n - (n + 2) / 3, atLeast3 - claimedAtLeast3), table.CountUnclaimed(atLeast: 3));
    }

    [Fact]
    public void IdsItCannotHoldAreRefusedSoTheCallerKeepsThemElsewhere()
    {
        var table = new VisitorTable();
        Assert.False(table.TryAdd("", 1));
        Assert.False(table.TryAdd("vïsitor", 1));
        Assert.False(table.TryAdd(new string('v', 256), 1));
        Assert.True(table.TryAdd(new string('v', 255), 7));
        table.Index();
        Assert.Equal((1, 1), table.CountUnclaimed(atLeast: 3));
        Assert.True(table.TryClaim(new string('v', 255), out var value));
        Assert.Equal(7, value);
        Assert.Equal((0, 0), table.CountUnclaimed(atLeast: 3));
    }
}
