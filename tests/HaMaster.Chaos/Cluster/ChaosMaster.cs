using System.Globalization;
using System.Net;
using System.Net.Sockets;
using HaMaster.Chaos.Core.Processes;

namespace HaMaster.Chaos.Cluster;

/// <summary>
/// One master of a <see cref="ChaosCluster"/>: id, fixed loopback ports (they survive restarts),
/// its data directory and, while it runs, its process. Every signal goes to the PID this object
/// started. Driven by one logical flow at a time (the nemesis or the final heal), not thread-safe.
/// </summary>
public sealed class ChaosMaster : IAsyncDisposable
{
    public const string ReadyPrefix = "HAMASTER READY id=";

    private readonly string _directory;
    private ManagedProcess? _process;
    private int _starts;
    private int _generation;

    internal ChaosMaster(ulong id, int index, string clusterDirectory, int clientPort, int peerPort, int webPort)
    {
        Id = id;
        Index = index;
        _directory = Path.Combine(clusterDirectory, $"master-{id}");
        Directory.CreateDirectory(_directory);
        ClientPort = clientPort;
        PeerPort = peerPort;
        WebPort = webPort;
    }

    public ulong Id { get; }

    /// <summary>Position in the proxy mesh (id - 1).</summary>
    public int Index { get; }

    public int ClientPort { get; }

    public int PeerPort { get; }

    public int WebPort { get; }

    public string ClientAddress => $"127.0.0.1:{ClientPort}";

    public string WebAddress => $"127.0.0.1:{WebPort}";

    public IPEndPoint PeerEndPoint => new(IPAddress.Loopback, PeerPort);

    /// <summary>The data directory of the current incarnation (a re-added master starts a fresh one).</summary>
    public string DataDirectory => Path.Combine(_directory, _generation == 0 ? "data" : $"data-{_generation}");

    /// <summary>Arguments of the last start (a restart reuses them).</summary>
    internal IReadOnlyList<string> Arguments { get; set; } = [];

    public bool IsRunning => _process is { HasExited: false };

    public bool IsPaused { get; private set; }

    public int? Pid => IsRunning ? _process!.Pid : null;

    public string LogPath => Path.Combine(_directory, $"run-{Math.Max(_starts, 1)}.log");

    /// <summary>Forgets the data (the master is started afresh with --join next time).</summary>
    internal void NewIncarnation() => _generation++;

    /// <summary>Starts the process and waits (bounded) for its READY line.</summary>
    internal async Task StartAsync(string serverDll, TimeSpan readyTimeout)
    {
        if (IsRunning)
        {
            throw new InvalidOperationException($"master {Id} already runs (pid {_process!.Pid})");
        }

        if (_process is not null)
        {
            await _process.DisposeAsync();
            _process = null;
        }

        _starts++;
        IsPaused = false;
        var args = new List<string>
        {
            serverDll,
            "--id", Id.ToString(CultureInfo.InvariantCulture),
            "--data-dir", DataDirectory,
            "--bind", "127.0.0.1",
            "--client-port", ClientPort.ToString(CultureInfo.InvariantCulture),
            "--peer-port", PeerPort.ToString(CultureInfo.InvariantCulture),
            "--web-port", WebPort.ToString(CultureInfo.InvariantCulture),
        };
        args.AddRange(Arguments);
        _process = ManagedProcess.Start(new ProcessSpec("dotnet", args, LogPath, new Dictionary<string, string?>
        {
            ["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1",
            ["DOTNET_NOLOGO"] = "1",
            ["HAMASTER_LOG_LEVEL"] = "Information",
        }, WorkingDirectory: _directory));
        try
        {
            await _process.WaitForOutputLineAsync(l => l.StartsWith(ReadyPrefix, StringComparison.Ordinal), readyTimeout);
        }
        catch (Exception e) when (e is TimeoutException or InvalidOperationException)
        {
            throw new InvalidOperationException($"master {Id} did not print READY within {readyTimeout.TotalSeconds:0} s: {e.Message}{Environment.NewLine}{RecentOutput()}", e);
        }
    }

    /// <summary>kill -9 (SIGCONT first is unnecessary: SIGKILL ends a stopped process too) and reap it.</summary>
    internal async Task KillAsync()
    {
        if (_process is null || _process.HasExited)
        {
            return;
        }

        _process.Kill();
        IsPaused = false;
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(15));
        await _process.WaitForExitAsync(timeout.Token);
    }

    /// <summary>SIGSTOP, then waits (bounded, polling /proc) until the kernel reports the process stopped.</summary>
    internal async Task PauseAsync()
    {
        var process = _process is { HasExited: false } p ? p : throw new InvalidOperationException($"master {Id} is not running");
        process.Pause();
        IsPaused = true;
        for (var i = 0; i < 200 && !process.IsStopped; i++)
        {
            await Task.Delay(10);
        }
    }

    internal void Resume()
    {
        if (_process is { HasExited: false } process && IsPaused)
        {
            process.Resume();
        }

        IsPaused = false;
    }

    /// <summary>Waits (bounded) for an output line of the current run (lines already printed count).</summary>
    public async Task<string> WaitForOutputAsync(Func<string, bool> predicate, TimeSpan timeout) =>
        await (_process ?? throw new InvalidOperationException($"master {Id} is not running")).WaitForOutputLineAsync(predicate, timeout);

    /// <summary>Whether the current run printed a line containing <paramref name="text"/> (recent lines only).</summary>
    public bool Printed(string text) => _process?.RecentOutput().Any(l => l.Contains(text, StringComparison.Ordinal)) ?? false;

    public string RecentOutput(int lines = 15) =>
        _process is null ? "(not started)" : string.Join(Environment.NewLine, _process.RecentOutput().TakeLast(lines));

    public async ValueTask DisposeAsync()
    {
        if (_process is not null)
        {
            Resume();
            await _process.DisposeAsync();
            _process = null;
        }
    }

    /// <summary>Distinct free loopback ports (see <see cref="HaMaster.Chaos.Core.Network.FreePorts"/>).</summary>
    internal static int[] FreePorts(int count) => HaMaster.Chaos.Core.Network.FreePorts.Take(count);
}
