using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using static Personalizer.Api.Tests.HttpTestExtensions;

namespace Personalizer.Api.Tests.Durability;

/// <summary>The real service as a child process, killed without warning (SIGKILL) right after its 202s.</summary>
public sealed class KillTests : IDisposable
{
    private readonly string _data = Path.Combine(Path.GetTempPath(), "p13n-kill-tests", Guid.NewGuid().ToString("N"));

    public void Dispose()
    {
        try
        {
            Directory.Delete(_data, recursive: true);
        }
        catch (IOException)
        {
        }
    }

    [Fact]
    public async Task EveryAcknowledgedEventSurvivesAKillExactlyOnce()
    {
        const int Batches = 40;
        const int PerBatch = 25;
        var acknowledged = 0;
        using (var service = await ServiceProcess.StartAsync(_data))
        {
            var client = service.Client(PersonalizerApp.SiteKey);
            // Batches in parallel, with periodic checkpoints (every second) running meanwhile.
            await Parallel.ForEachAsync(Enumerable.Range(0, Batches), new ParallelOptions { MaxDegreeOfParallelism = 4 }, async (b, ct) =>
            {
                var events = Enumerable.Range(0, PerBatch).Select(i => PageView($"b{b}-e{i}", $"v-{(b * PerBatch + i) % 10}")).ToArray();
                var response = await client.SendEvents(events);
                Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
                Interlocked.Add(ref acknowledged, (await response.Json()).GetProperty("accepted").GetInt32());
            });
            service.Kill();
        }
        Assert.Equal(Batches * PerBatch, acknowledged);

        using var restarted = await ServiceProcess.StartAsync(_data);
        var admin = restarted.Client(PersonalizerApp.AdminKey);
        var pageViews = 0;
        for (var v = 0; v < 10; v++)
        {
            var profile = await (await admin.GetAsync($"/v1/profiles/v-{v}")).Json();
            pageViews += profile.GetProperty("pageViews").GetInt32();
        }
        Assert.Equal(acknowledged, pageViews);

        // Sent again after the restart, the same events are recognised as duplicates.
        var again = await (await restarted.Client(PersonalizerApp.SiteKey).SendEvents(PageView("b0-e0", "v-0"))).Json();
        Assert.Equal(1, again.GetProperty("duplicates").GetInt32());
    }

    [Fact]
    public async Task AnErasureSurvivesAKill()
    {
        using (var service = await ServiceProcess.StartAsync(_data))
        {
            await service.Client(PersonalizerApp.SiteKey).SendEvents(PageView("e-1", "v-gone"), PageView("e-2", "v-kept"));
            await service.Client(PersonalizerApp.AdminKey).DeleteAsync("/v1/profiles/v-gone").AssertStatus(HttpStatusCode.NoContent);
            service.Kill();
        }
        using var restarted = await ServiceProcess.StartAsync(_data);
        var admin = restarted.Client(PersonalizerApp.AdminKey);
        await admin.GetAsync("/v1/profiles/v-gone").AssertStatus(HttpStatusCode.NotFound);
        await admin.GetAsync("/v1/profiles/v-kept").AssertStatus(HttpStatusCode.OK);
    }
}

/// <summary>Runs the built Personalizer.Api as its own process on a free loopback port.</summary>
internal sealed class ServiceProcess : IDisposable
{
    private readonly Process _process;

    private ServiceProcess(Process process, Uri address)
    {
        _process = process;
        Address = address;
    }

    public Uri Address { get; }

    /// <param name="checkpointSeconds">1 by default, so that kills land between and during checkpoints.</param>
    public static async Task<ServiceProcess> StartAsync(string dataPath, int checkpointSeconds = 1)
    {
        var port = FreePort();
        var dll = typeof(Program).Assembly.Location;
        var info = new ProcessStartInfo("dotnet")
        {
            WorkingDirectory = Path.GetDirectoryName(dll)!,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var arg in new[]
        {
            dll, "--urls", $"http://127.0.0.1:{port}", "--environment", "Testing",
            "--contentRoot", Path.Combine(Repository.Root, "src", "Personalizer.Api"),
            $"--Personalizer:DataPath={dataPath}",
            $"--Personalizer:CheckpointIntervalSeconds={checkpointSeconds}",
            // Shared 2-core machines: a decide may pass 50 ms here; the deadline has its own tests.
            "--Personalizer:DecideBudgetMs=1000",
            "--Personalizer:Faster:MemoryMb=16", "--Personalizer:Faster:IndexMb=1", "--Personalizer:Faster:EventLogMemoryMb=8",
            $"--Personalizer:Sites:demo:SiteKeys:0={PersonalizerApp.SiteKey}",
            $"--Personalizer:Sites:demo:AdminKeys:0={PersonalizerApp.AdminKey}",
            "--Logging:LogLevel:Default=Warning",
        })
        {
            info.ArgumentList.Add(arg);
        }
        var process = Process.Start(info)!;
        process.OutputDataReceived += (_, _) => { };
        process.ErrorDataReceived += (_, _) => { };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        var service = new ServiceProcess(process, new Uri($"http://127.0.0.1:{port}"));
        using var probe = new HttpClient { BaseAddress = service.Address, Timeout = TimeSpan.FromSeconds(2) };
        var deadline = Stopwatch.StartNew();
        while (deadline.Elapsed < TimeSpan.FromSeconds(60))
        {
            if (process.HasExited)
            {
                throw new InvalidOperationException($"The service exited with code {process.ExitCode} while starting.");
            }
            try
            {
                if ((await probe.GetAsync("/readyz")).IsSuccessStatusCode)
                {
                    return service;
                }
            }
            catch (HttpRequestException)
            {
            }
            catch (TaskCanceledException)
            {
            }
            await Task.Delay(100);
        }
        service.Kill();
        throw new TimeoutException("The service did not become ready within 60 s.");
    }

    public HttpClient Client(string key)
    {
        var client = new HttpClient { BaseAddress = Address };
        client.DefaultRequestHeaders.Add("X-Api-Key", key);
        return client;
    }

    /// <summary>SIGKILL: no shutdown hooks, no final checkpoint.</summary>
    public void Kill()
    {
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
            _process.WaitForExit();
        }
    }

    public void Dispose()
    {
        Kill();
        _process.Dispose();
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
