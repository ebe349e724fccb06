using System.Diagnostics;
using System.Net;
using System.Net.Sockets;

namespace Personalizer.Testing;

/// <summary>
/// A Debian <c>redis-server</c> on a loopback port, started and stopped by the tests themselves
/// (no persistence unless asked; its folder is removed at the end). The test command installs
/// redis-server; when it is missing the test fails with what to install.
/// </summary>
public sealed class RedisServer : IAsyncDisposable
{
    private readonly string _directory;
    private readonly bool _ownsDirectory;
    private readonly string[] _extra;
    private Process? _process;

    private RedisServer(int port, string directory, bool ownsDirectory, string[] extra)
    {
        Port = port;
        _directory = directory;
        _ownsDirectory = ownsDirectory;
        _extra = extra;
    }

    public int Port { get; }

    public string Endpoint => $"127.0.0.1:{Port}";

    public static async Task<RedisServer> StartAsync(bool appendOnly = false, bool cluster = false)
    {
        var directory = Path.Combine(Path.GetTempPath(), "p13n-redis", Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(directory);
        var extra = new List<string>();
        if (appendOnly)
        {
            extra.AddRange(["--appendonly", "yes", "--appendfsync", "always"]);
        }
        if (cluster)
        {
            extra.AddRange(["--cluster-enabled", "yes", "--cluster-config-file", "nodes.conf", "--cluster-node-timeout", "2000"]);
        }
        var server = new RedisServer(FreePort(), directory, ownsDirectory: true, [.. extra]);
        await server.RestartAsync();
        return server;
    }

    /// <summary>Starts the process (again) on the same port and folder.</summary>
    public async Task RestartAsync()
    {
        var executable = Find("redis-server");
        var info = new ProcessStartInfo(executable)
        {
            WorkingDirectory = _directory,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var arg in (string[])["--port", Port.ToString(System.Globalization.CultureInfo.InvariantCulture), "--bind", "127.0.0.1",
            "--save", "", "--dir", _directory, "--daemonize", "no", "--protected-mode", "no", .. _extra])
        {
            info.ArgumentList.Add(arg);
        }
        _process = Process.Start(info)!;
        _process.OutputDataReceived += (_, _) => { };
        _process.ErrorDataReceived += (_, _) => { };
        _process.BeginOutputReadLine();
        _process.BeginErrorReadLine();
        var deadline = Stopwatch.StartNew();
        while (deadline.Elapsed < TimeSpan.FromSeconds(20))
        {
            if (_process.HasExited)
            {
                throw new InvalidOperationException($"redis-server exited with code {_process.ExitCode} on port {Port}.");
            }
            if ((await CliAsync("ping")).Trim() == "PONG")
            {
                return;
            }
            await Task.Delay(50);
        }
        throw new TimeoutException($"redis-server on port {Port} did not answer within 20 s.");
    }

    /// <summary>SIGKILL: the process dies at once, as a crashed machine would.</summary>
    public void Kill()
    {
        if (_process is { HasExited: false } p)
        {
            p.Kill();
            p.WaitForExit();
        }
    }

    /// <summary>A graceful stop (SIGTERM): an append-only file is flushed first.</summary>
    public async Task StopAsync()
    {
        if (_process is { HasExited: false } p)
        {
            using var term = Process.Start("kill", ["-TERM", p.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)]);
            await term.WaitForExitAsync();
            using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(15));
            await p.WaitForExitAsync(cts.Token);
        }
    }

    public async Task<string> CliAsync(params string[] args)
    {
        var info = new ProcessStartInfo(Find("redis-cli")) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var arg in (string[])["-h", "127.0.0.1", "-p", Port.ToString(System.Globalization.CultureInfo.InvariantCulture), .. args])
        {
            info.ArgumentList.Add(arg);
        }
        using var process = Process.Start(info)!;
        var output = await process.StandardOutput.ReadToEndAsync();
        await process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();
        return output;
    }

    public async ValueTask DisposeAsync()
    {
        if (_process is { HasExited: false } p)
        {
            p.Kill();
            await p.WaitForExitAsync();
        }
        _process?.Dispose();
        if (_ownsDirectory)
        {
            try
            {
                Directory.Delete(_directory, recursive: true);
            }
            catch (IOException)
            {
            }
        }
    }

    internal static string Find(string tool)
    {
        foreach (var dir in new[] { "/usr/bin", "/usr/local/bin", "/usr/sbin" })
        {
            var path = Path.Combine(dir, tool);
            if (File.Exists(path))
            {
                return path;
            }
        }
        throw new InvalidOperationException($"{tool} is missing: install it with 'apt-get install -y redis-server' (./test.sh does this as root).");
    }

    public static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}

/// <summary>A Redis Cluster of three masters (with a replica each when asked) on loopback ports, made with <c>redis-cli --cluster create</c>.</summary>
public sealed class RedisCluster : IAsyncDisposable
{
    private readonly RedisServer[] _nodes;

    private RedisCluster(RedisServer[] nodes) => _nodes = nodes;

    public string Configuration => string.Join(',', _nodes.Select(n => n.Endpoint));

    public IReadOnlyList<RedisServer> Nodes => _nodes;

    public static async Task<RedisCluster> StartAsync(int replicas = 0)
    {
        var nodes = await Task.WhenAll(Enumerable.Range(0, 3 * (1 + replicas)).Select(_ => RedisServer.StartAsync(appendOnly: replicas > 0, cluster: true)));
        var cluster = new RedisCluster(nodes);
        var info = new ProcessStartInfo(RedisServer.Find("redis-cli")) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var arg in (string[])["--cluster", "create", .. nodes.Select(n => n.Endpoint), "--cluster-replicas", replicas.ToString(System.Globalization.CultureInfo.InvariantCulture), "--cluster-yes"])
        {
            info.ArgumentList.Add(arg);
        }
        using (var create = Process.Start(info)!)
        {
            var output = await create.StandardOutput.ReadToEndAsync();
            var error = await create.StandardError.ReadToEndAsync();
            await create.WaitForExitAsync();
            if (create.ExitCode != 0)
            {
                await cluster.DisposeAsync();
                throw new InvalidOperationException($"redis-cli --cluster create failed: {output} {error}");
            }
        }
        var deadline = Stopwatch.StartNew();
        while (deadline.Elapsed < TimeSpan.FromSeconds(30))
        {
            var states = await Task.WhenAll(nodes.Select(n => n.CliAsync("cluster", "info")));
            if (states.All(s => s.Contains("cluster_state:ok", StringComparison.Ordinal)))
            {
                return cluster;
            }
            await Task.Delay(100);
        }
        await cluster.DisposeAsync();
        throw new TimeoutException("The Redis Cluster did not reach cluster_state:ok within 30 s.");
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var node in _nodes)
        {
            await node.DisposeAsync();
        }
    }
}
