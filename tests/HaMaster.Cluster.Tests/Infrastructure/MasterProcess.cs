using HaMaster.Chaos.Core.Processes;

using HaMaster.Chaos.Core.Network;

namespace HaMaster.Cluster.Tests.Infrastructure;

/// <summary>
/// One master of a <see cref="TestCluster"/>: its fixed ports and data directory (they survive
/// restarts) and, while it runs, its process. Everything that signals acts on the PID this
/// object started, never on a name.
/// Not thread-safe: a test drives its cluster from one logical flow.
/// </summary>
public sealed class MasterProcess : IAsyncDisposable
{
    /// <summary>Line prefix the server prints once it serves (see src/HaMaster.Server/Program.cs).</summary>
    public const string ReadyPrefix = "HAMASTER READY id=";

    private readonly string _directory;
    private ManagedProcess? _process;
    private int _starts;

    internal MasterProcess(ulong id, string clusterDirectory)
    {
        Id = id;
        _directory = Path.Combine(clusterDirectory, $"master-{id}");
        DataDirectory = Path.Combine(_directory, "data");
        Directory.CreateDirectory(_directory);
        var ports = FreePorts.Take(3);
        ClientPort = ports[0];
        PeerPort = ports[1];
        WebPort = ports[2];
    }

    public ulong Id { get; }

    public int ClientPort { get; }

    public int PeerPort { get; }

    public int WebPort { get; }

    public string DataDirectory { get; }

    public string ClientAddress => $"127.0.0.1:{ClientPort}";

    public string PeerAddress => $"127.0.0.1:{PeerPort}";

    public string WebAddress => $"127.0.0.1:{WebPort}";

    /// <summary>This master in the server's <c>--members</c> syntax.</summary>
    public string MemberSpec => $"{Id}={ClientAddress}/{PeerAddress}/{WebAddress}";

    public bool IsRunning => _process is { HasExited: false };

    /// <summary>PID of the running process (null when stopped).</summary>
    public int? Pid => IsRunning ? _process!.Pid : null;

    /// <summary>Path of the current run's output log (stdout and stderr).</summary>
    public string LogPath => Path.Combine(_directory, $"run-{Math.Max(_starts, 1)}.log");

    /// <summary>Starts the process with <paramref name="arguments"/> (data dir and ports are added) and waits for its READY line.</summary>
    internal async Task StartAsync(IReadOnlyList<string> arguments, TimeSpan readyTimeout)
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
        var args = new List<string>
        {
            RepositoryLayout.ServerDll,
            "--id", Id.ToString(System.Globalization.CultureInfo.InvariantCulture),
            "--data-dir", DataDirectory,
            "--bind", "127.0.0.1",
            "--client-port", ClientPort.ToString(System.Globalization.CultureInfo.InvariantCulture),
            "--peer-port", PeerPort.ToString(System.Globalization.CultureInfo.InvariantCulture),
            "--web-port", WebPort.ToString(System.Globalization.CultureInfo.InvariantCulture),
        };
        args.AddRange(arguments);
        _process = ManagedProcess.Start(new ProcessSpec("dotnet", args, LogPath, new Dictionary<string, string?>
        {
            // Quiet, deterministic child: no telemetry banner, no first-run work, no inherited overrides.
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
            var output = string.Join(Environment.NewLine, _process.RecentOutput().TakeLast(40));
            await _process.DisposeAsync();
            _process = null;
            throw new InvalidOperationException($"master {Id} did not print its READY line within {readyTimeout.TotalSeconds:0} s ({e.Message}); last output:{Environment.NewLine}{output}", e);
        }
    }

    /// <summary>kill -9 and wait for the exit to be reaped. No-op when stopped.</summary>
    public async Task KillAsync()
    {
        if (_process is null)
        {
            return;
        }

        _process.Kill();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(15));
        await _process.WaitForExitAsync(timeout.Token);
    }

    /// <summary>SIGTERM and wait (bounded by <paramref name="timeout"/>) for the clean exit; throws if it takes longer.</summary>
    public async Task TerminateAsync(TimeSpan timeout)
    {
        var process = _process ?? throw new InvalidOperationException($"master {Id} is not running");
        process.Terminate();
        using var bound = new CancellationTokenSource(timeout);
        await process.WaitForExitAsync(bound.Token);
    }

    /// <summary>SIGSTOP (the process freezes, sockets stay open) and wait until the kernel reports it stopped.</summary>
    public async Task PauseAsync()
    {
        var process = _process ?? throw new InvalidOperationException($"master {Id} is not running");
        process.Pause();
        await Eventually.TrueAsync($"master {Id} to be stopped", () => Task.FromResult(process.IsStopped), TimeSpan.FromSeconds(10));
    }

    /// <summary>SIGCONT.</summary>
    public void Resume() => (_process ?? throw new InvalidOperationException($"master {Id} is not running")).Resume();

    /// <summary>Waits (bounded) for an output line of the current run matching <paramref name="predicate"/> (lines already printed count).</summary>
    public async Task<string> WaitForOutputAsync(Func<string, bool> predicate, TimeSpan timeout) =>
        await (_process ?? throw new InvalidOperationException($"master {Id} is not running")).WaitForOutputLineAsync(predicate, timeout);

    /// <summary>The last <paramref name="lines"/> lines of output of the current (or last) run.</summary>
    public string RecentOutput(int lines = 25) =>
        _process is null ? "(not started)" : string.Join(Environment.NewLine, _process.RecentOutput().TakeLast(lines));

    public async ValueTask DisposeAsync()
    {
        if (_process is not null)
        {
            if (_process.IsStopped)
            {
                _process.Resume();
            }

            await _process.DisposeAsync();
            _process = null;
        }
    }
}
