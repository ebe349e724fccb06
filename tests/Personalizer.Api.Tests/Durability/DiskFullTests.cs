using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using Xunit.Abstractions;
using static Personalizer.Api.Tests.HttpTestExtensions;

namespace Personalizer.Api.Tests.Durability;

/// <summary>
/// The real service on a small tmpfs that fills up under it, ten times: events go in until the disk is
/// full and after; the process is killed while the disk is full and started again on the full disk; then
/// space returns. Every event answered 202 must be in the profiles afterwards, exactly once (and of those
/// answered 503 at most as many as were refused), the process must never exit by itself, and decide must
/// answer 200 all along. Mounting a tmpfs
/// needs root, which CI has.
/// </summary>
public sealed class DiskFullTests(ITestOutputHelper output)
{
    private const int Trials = 10;
    private const int Visitors = 40;

    [Fact]
    public async Task AFullDiskNeverCostsAnAcknowledgedEvent()
    {
        for (var trial = 0; trial < Trials; trial++)
        {
            using var disk = await SmallDisk.MountAsync(sizeMb: 20);
            await RunTrialAsync(disk, trial);
        }
    }

    private async Task RunTrialAsync(SmallDisk disk, int trial)
    {
        var data = Path.Combine(disk.Path, "data");
        var acknowledged = new ConcurrentDictionary<string, int>(); // visitor -> events answered 202
        var refusedEvents = new ConcurrentDictionary<string, int>(); // visitor -> events answered 503
        var refusals = 0;
        var decideFailures = new ConcurrentQueue<string>();
        var next = 0;

        string firstOutput;
        using (var service = await ServiceProcess.StartAsync(data, 1, Logging))
        {
            // Leave the service a few MB: it fills them within seconds.
            disk.FillLeaving(bytesFree: 3 << 20);
            using var stop = new CancellationTokenSource();
            var site = service.Client(PersonalizerApp.SiteKey);
            var writers = Enumerable.Range(0, 3).Select(_ => Task.Run(async () =>
            {
                while (!stop.IsCancellationRequested)
                {
                    var refused = await SendBatchAsync(site, trial, Interlocked.Add(ref next, 20) - 20, acknowledged, refusedEvents);
                    if (refused)
                    {
                        Interlocked.Increment(ref refusals);
                        await Task.Delay(50);
                    }
                }
            })).ToArray();
            var decider = Task.Run(() => DecideUntilAsync(site, decideFailures, stop.Token));

            // Until the disk is full and writes are refused, then a while longer, with checkpoints every second.
            var clock = Stopwatch.StartNew();
            while (Volatile.Read(ref refusals) < 20 && clock.Elapsed < TimeSpan.FromSeconds(60))
            {
                Assert.False(service.HasExited, $"trial {trial}: the service exited on a full disk: {service.Output}");
                await Task.Delay(100);
            }
            Assert.True(refusals >= 20, $"trial {trial}: the disk never filled ({disk.FreeBytes} bytes free)");
            await Task.Delay(1500);
            Assert.False(service.HasExited, $"trial {trial}: the service exited on a full disk: {service.Output}");
            await stop.CancelAsync();
            await Task.WhenAll(writers);
            await decider;
            service.Kill();
            firstOutput = service.Output;
        }
        Assert.True(decideFailures.IsEmpty, $"trial {trial}: decide failed while the disk was full: {string.Join("; ", decideFailures.Take(5))}");
        Assert.NotEmpty(acknowledged);

        // Started again on the still-full disk: it comes up, decides, and refuses writes with 503 + Retry-After.
        using var restarted = await ServiceProcess.StartAsync(data, 1, Logging);
        var client = restarted.Client(PersonalizerApp.SiteKey);
        var decide = await client.PostJson("/v1/decide", DecideBody("v-0"));
        Assert.Equal(HttpStatusCode.OK, decide.StatusCode);
        var write = await client.SendEvents(PageView($"t{trial}-probe", "v-probe"));
        if (write.StatusCode == HttpStatusCode.ServiceUnavailable)
        {
            Assert.NotNull(write.Headers.RetryAfter);
        }
        else
        {
            Assert.Equal(HttpStatusCode.Accepted, write.StatusCode); // the restart itself may have freed a little
            acknowledged.AddOrUpdate("v-probe", 1, (_, n) => n + 1);
        }

        // Space returns: writes resume without a restart.
        disk.FreeBallast();
        var resumed = false;
        var clock2 = Stopwatch.StartNew();
        while (!resumed && clock2.Elapsed < TimeSpan.FromSeconds(30))
        {
            resumed = !await SendBatchAsync(client, trial, Interlocked.Add(ref next, 20) - 20, acknowledged, refusedEvents);
            if (!resumed)
            {
                await Task.Delay(200);
            }
        }
        Assert.True(resumed, $"trial {trial}: writes did not resume once space returned: {restarted.Output}");

        output.WriteLine($"trial {trial}: {acknowledged.Values.Sum()} events acknowledged, {refusals} batches refused while full, first write after the restart {(int)write.StatusCode}");

        // Every 202 is there, exactly once. An event answered 503 may be there too: its record can reach the disk
        // whole while the failure is reported (a client's retry with the same event id is then a duplicate), but
        // never more of them than were refused.
        var admin = restarted.Client(PersonalizerApp.AdminKey);
        foreach (var (visitor, count) in acknowledged)
        {
            var profile = await (await admin.GetAsync($"/v1/profiles/{visitor}")).Json();
            var views = profile.GetProperty("pageViews").GetInt32();
            var refused = refusedEvents.GetValueOrDefault(visitor);
            Assert.True(views >= count && views <= count + refused,
                $"trial {trial}: {visitor} has {views} page views, {count} were acknowledged and {refused} refused\n-- the first process:\n{firstOutput}\n-- after the restart:\n{restarted.Output}");
        }
    }

    /// <summary>Sends 20 new page views; counts them when answered 202. True when the write was refused (503).</summary>
    private static async Task<bool> SendBatchAsync(HttpClient client, int trial, int first, ConcurrentDictionary<string, int> acknowledged, ConcurrentDictionary<string, int> refusedEvents)
    {
        var events = Enumerable.Range(first, 20).Select(i => PageView($"t{trial}-e{i}", $"v-{i % Visitors}")).ToArray();
        var response = await client.SendEvents(events);
        if (response.StatusCode == HttpStatusCode.ServiceUnavailable)
        {
            Assert.NotNull(response.Headers.RetryAfter);
            foreach (var i in Enumerable.Range(first, 20))
            {
                refusedEvents.AddOrUpdate($"v-{i % Visitors}", 1, (_, n) => n + 1);
            }
            return true;
        }
        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        Assert.Equal(20, (await response.Json()).GetProperty("accepted").GetInt32());
        foreach (var i in Enumerable.Range(first, 20))
        {
            acknowledged.AddOrUpdate($"v-{i % Visitors}", 1, (_, n) => n + 1);
        }
        return false;
    }

    private static async Task DecideUntilAsync(HttpClient client, ConcurrentQueue<string> failures, CancellationToken stop)
    {
        for (var n = 0; !stop.IsCancellationRequested; n++)
        {
            try
            {
                var response = await client.PostJson("/v1/decide", DecideBody($"v-{n % Visitors}"));
                if (response.StatusCode != HttpStatusCode.OK)
                {
                    failures.Enqueue($"{(int)response.StatusCode}: {await response.Content.ReadAsStringAsync(CancellationToken.None)}");
                }
            }
            catch (HttpRequestException ex)
            {
                failures.Enqueue(ex.Message);
            }
            await Task.Delay(20, CancellationToken.None);
        }
    }

    /// <summary>What the service logs about its checkpoints, recovery and log, for a failure's message.</summary>
    private static readonly string[] Logging =
    [
        "--Logging:LogLevel:Personalizer=Information", "--Logging:LogLevel:Personalizer.Engine.Storage=Debug",
        "--Logging:LogLevel:Personalizer.Requests=Error", "--Logging:LogLevel:Personalizer.Engine.Profiles.ImpressionFeed=Error",
    ];

    private static string DecideBody(string visitor) => $$"""{"visitorId":"{{visitor}}","slots":["home-hero","home-recs"]}""";
}

/// <summary>A tmpfs of a few MB mounted for one test, with a ballast file that takes its space on demand.</summary>
internal sealed class SmallDisk : IDisposable
{
    private SmallDisk(string path) => Path = path;

    public string Path { get; }

    private string Ballast => System.IO.Path.Combine(Path, "ballast");

    public long FreeBytes => new DriveInfo(Path).AvailableFreeSpace;

    public static async Task<SmallDisk> MountAsync(int sizeMb)
    {
        if (!OperatingSystem.IsLinux() || Environment.UserName != "root")
        {
            throw new InvalidOperationException("The disk-full test mounts a tmpfs and needs root (CI runs as root): run the tests as root.");
        }
        var path = System.IO.Path.Combine(System.IO.Path.GetTempPath(), "p13n-disk-full", Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(path);
        await RunAsync("mount", "-t", "tmpfs", "-o", $"size={sizeMb}m", "tmpfs", path);
        return new SmallDisk(path);
    }

    /// <summary>Fills the disk with a ballast file until <paramref name="bytesFree"/> remain.</summary>
    public void FillLeaving(long bytesFree)
    {
        var take = FreeBytes - bytesFree;
        if (take <= 0)
        {
            return;
        }
        using var file = new FileStream(Ballast, FileMode.Create, FileAccess.Write);
        var block = new byte[1 << 20];
        Array.Fill(block, (byte)1);
        while (take > 0)
        {
            var n = (int)Math.Min(block.Length, take);
            file.Write(block, 0, n);
            take -= n;
        }
    }

    public void FreeBallast() => File.Delete(Ballast);

    /// <summary>Remounts with other options, e.g. <c>ro</c> for a read-only disk.</summary>
    public Task RemountAsync(string options) => RunAsync("mount", "-o", $"remount,{options}", Path);

    public void Dispose()
    {
        RunAsync("umount", "-l", Path).GetAwaiter().GetResult();
        Directory.Delete(Path);
    }

    private static async Task RunAsync(string command, params string[] args)
    {
        var info = new ProcessStartInfo(command) { RedirectStandardError = true, UseShellExecute = false };
        foreach (var arg in args)
        {
            info.ArgumentList.Add(arg);
        }
        using var process = Process.Start(info)!;
        var error = await process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();
        if (process.ExitCode != 0)
        {
            throw new InvalidOperationException($"{command} {string.Join(' ', args)} failed: {error}");
        }
    }
}

/// <summary>A data folder that cannot be used stops start-up with a message that says why, never a healthy empty service.</summary>
public sealed class DataFolderTests
{
    [Fact]
    public async Task AReadOnlyDataFolderFailsStartUpSayingSo()
    {
        using var disk = await SmallDisk.MountAsync(sizeMb: 20);
        var data = Path.Combine(disk.Path, "data");
        using (var service = await ServiceProcess.StartAsync(data))
        {
            await service.Client(PersonalizerApp.SiteKey).SendEvents(PageView("ro-1", "v-ro")).AssertStatus(HttpStatusCode.Accepted);
        }
        await disk.RemountAsync("ro");
        var failure = await Assert.ThrowsAsync<InvalidOperationException>(() => ServiceProcess.StartAsync(data));
        Assert.Contains("is read-only or not writable", failure.Message);
    }

    [Fact]
    public async Task AnUnreadableCheckpointFallsBackToTheOneBefore()
    {
        var data = Path.Combine(Path.GetTempPath(), "p13n-corrupt", Guid.NewGuid().ToString("N"));
        try
        {
            for (var run = 0; run < 2; run++)
            {
                using var service = await ServiceProcess.StartAsync(data, checkpointSeconds: 0);
                await service.Client(PersonalizerApp.SiteKey).SendEvents(PageView($"c-{run}-1", "v-c"), PageView($"c-{run}-2", "v-c")).AssertStatus(HttpStatusCode.Accepted);
                await service.StopAsync(); // each run ends with a checkpoint: two are kept
            }
            var checkpoints = new DirectoryInfo(Path.Combine(data, "profiles", "checkpoints", "cpr-checkpoints")).GetDirectories().OrderBy(d => d.CreationTimeUtc).ToList();
            Assert.Equal(2, checkpoints.Count);
            await File.WriteAllBytesAsync(Path.Combine(checkpoints[1].FullName, "info.dat"), new byte[512]); // the newest, cut short

            using (var service = await ServiceProcess.StartAsync(data, checkpointSeconds: 0))
            {
                var profile = await (await service.Client(PersonalizerApp.AdminKey).GetAsync("/v1/profiles/v-c")).Json();
                Assert.Equal(4, profile.GetProperty("pageViews").GetInt32()); // the older checkpoint, and the log replayed after it
                await service.StopAsync();
            }

            // The event log's commit records destroyed: the store's checkpoint lies beyond the log's end.
            foreach (var commit in Directory.EnumerateFiles(Path.Combine(data, "events", "commits", "log-commits")))
            {
                await File.WriteAllBytesAsync(commit, new byte[16]);
            }
            var failure = await Assert.ThrowsAsync<InvalidOperationException>(() => ServiceProcess.StartAsync(data));
            Assert.Contains("is corrupt", failure.Message);
            Assert.Contains("commit records are missing or cannot be read", failure.Message);
        }
        finally
        {
            Directory.Delete(data, recursive: true);
        }
    }
}
