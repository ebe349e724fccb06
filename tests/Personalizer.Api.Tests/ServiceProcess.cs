using System.Diagnostics;
using System.Net;
using System.Net.Sockets;

namespace Personalizer.Api.Tests;

/// <summary>Runs the built Personalizer.Api as its own process on a free loopback port.</summary>
internal sealed class ServiceProcess : IDisposable
{
    private readonly Process _process;

    private readonly System.Collections.Concurrent.ConcurrentQueue<string> _output;

    private ServiceProcess(Process process, Uri address, System.Collections.Concurrent.ConcurrentQueue<string> output)
    {
        _process = process;
        Address = address;
        _output = output;
    }

    /// <summary>The last lines the process wrote, for failure messages.</summary>
    public string Output => string.Join('\n', _output);

    public Uri Address { get; }

    public bool HasExited => _process.HasExited;

    /// <param name="checkpointSeconds">1 by default, so that kills land between and during checkpoints.</param>
    /// <param name="extra">More settings, e.g. <c>--Personalizer:Store=Redis</c>.</param>
    public static Task<ServiceProcess> StartAsync(string dataPath, int checkpointSeconds = 1, params string[] extra)
    {
        string[] args =
        [
            "--contentRoot", Path.Combine(Repository.Root, "src", "Personalizer.Api"),
            $"--Personalizer:DataPath={dataPath}",
            $"--Personalizer:CheckpointIntervalSeconds={checkpointSeconds}",
            // Shared 2-core machines: a decide may pass 50 ms here; the deadline has its own tests.
            "--Personalizer:DecideBudgetMs=1000",
            "--Personalizer:Faster:MemoryMb=16", "--Personalizer:Faster:IndexMb=1", "--Personalizer:Faster:EventLogMemoryMb=8",
            $"--Personalizer:Sites:demo:SiteKeys:0={PersonalizerApp.SiteKey}",
            $"--Personalizer:Sites:demo:AdminKeys:0={PersonalizerApp.AdminKey}",
            "--Logging:LogLevel:Default=Warning",
            .. extra,
        ];
        return LaunchAsync(typeof(Program).Assembly.Location, "/readyz", args);
    }

    /// <summary>The YARP gateway in front of <paramref name="nodes"/>.</summary>
    public static Task<ServiceProcess> StartGatewayAsync(IEnumerable<Uri> nodes, params string[] extra)
    {
        var testOutput = Path.GetDirectoryName(typeof(ServiceProcess).Assembly.Location)!;
        var configuration = new DirectoryInfo(testOutput).Parent!.Name; // bin/<Configuration>/net10.0
        var dll = Path.Combine(Repository.Root, "src", "Personalizer.Gateway", "bin", configuration, "net10.0", "Personalizer.Gateway.dll");
        string[] args =
        [
            "--contentRoot", Path.Combine(Repository.Root, "src", "Personalizer.Gateway"),
            "--Logging:LogLevel:Default=Warning",
            .. nodes.Select((n, i) => $"--Gateway:Nodes:{i}={n.ToString().TrimEnd('/')}"),
            .. extra,
        ];
        return LaunchAsync(dll, "/gateway/healthz", args);
    }

    /// <summary>
    /// Starts the process on a free port. The port is only known free when chosen: another test's process or
    /// connection can take it before the service binds, so a launch that finds it taken is made again on another.
    /// </summary>
    private static async Task<ServiceProcess> LaunchAsync(string dll, string readyPath, string[] args)
    {
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                return await LaunchOnFreePortAsync(dll, readyPath, args);
            }
            catch (PortTakenException) when (attempt < 5)
            {
            }
        }
    }

    private sealed class PortTakenException(string message) : InvalidOperationException(message);

    private static async Task<ServiceProcess> LaunchOnFreePortAsync(string dll, string readyPath, string[] args)
    {
        var port = FreePort();
        var info = new ProcessStartInfo("dotnet")
        {
            WorkingDirectory = Path.GetDirectoryName(dll)!,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var arg in (string[])[dll, "--urls", $"http://127.0.0.1:{port}", "--environment", "Testing", .. args])
        {
            info.ArgumentList.Add(arg);
        }
        var process = Process.Start(info)!;
        var output = new System.Collections.Concurrent.ConcurrentQueue<string>();
        void Keep(object? _, DataReceivedEventArgs e)
        {
            if (e.Data is not null)
            {
                output.Enqueue(e.Data);
                while (output.Count > 200 && output.TryDequeue(out var _))
                {
                }
            }
        }
        process.OutputDataReceived += Keep;
        process.ErrorDataReceived += Keep;
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        var service = new ServiceProcess(process, new Uri($"http://127.0.0.1:{port}"), output);
        using var probe = new HttpClient { BaseAddress = service.Address, Timeout = TimeSpan.FromSeconds(2) };
        var deadline = Stopwatch.StartNew();
        while (deadline.Elapsed < TimeSpan.FromSeconds(60))
        {
            if (process.HasExited)
            {
                process.WaitForExit(); // the output read to its end
                var message = $"The service exited with code {process.ExitCode} while starting: {service.Output}";
                service.Dispose();
                throw service.Output.Contains("address already in use", StringComparison.Ordinal) ? new PortTakenException(message) : new InvalidOperationException(message);
            }
            try
            {
                if ((await probe.GetAsync(readyPath)).IsSuccessStatusCode)
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

    /// <summary>SIGTERM, as an orchestrator stops a service: the host shuts down and takes its last checkpoint.</summary>
    public async Task StopAsync()
    {
        if (_process.HasExited)
        {
            return;
        }
        using (var kill = Process.Start("kill", ["-TERM", _process.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)]))
        {
            await kill.WaitForExitAsync();
        }
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        await _process.WaitForExitAsync(timeout.Token);
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
