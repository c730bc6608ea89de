using System.Globalization;
using HaMaster.Chaos.Core.Processes;

namespace HaMaster.Testing;

/// <summary>
/// One <c>hamaster-server</c> process of a <see cref="TestCluster"/>: its id, ports and data
/// directory (they survive restarts) and, while it runs, its process. A master created with
/// port 0 binds whatever the kernel gives it; its READY line (<see cref="ReadyLine"/>) reports
/// the ports, which it then keeps for every restart (the other masters know them). Every
/// signal goes to the PID this object started, never to a name. Each run's output is kept in
/// its own log file (run-N.log) for post-mortems.
/// Not thread-safe: a test (or the chaos nemesis) drives a master from one logical flow.
/// </summary>
public sealed class MasterProcess : IAsyncDisposable
{
    /// <summary>Line prefix the server prints once it serves.</summary>
    public const string ReadyPrefix = ReadyLine.Prefix;

    private readonly string _directory;
    private readonly string _serverDll;
    private ManagedProcess? _process;
    private int _starts;
    private int _generation;

    // Whether the current run's end is expected: this object killed or terminated it, or it was
    // started without waiting for READY (a test that expects it to refuse to start).
    private bool _exitExpected;

    internal MasterProcess(ulong id, string clusterDirectory, string serverDll, int clientPort = 0, int peerPort = 0, int webPort = 0)
    {
        Id = id;
        _serverDll = serverDll;
        _directory = Path.Combine(clusterDirectory, $"master-{id}");
        Directory.CreateDirectory(_directory);
        ClientPort = clientPort;
        PeerPort = peerPort;
        WebPort = webPort;
    }

    public ulong Id { get; }

    /// <summary>The client port: chosen at creation, or (0 at creation) the one the first run reported.</summary>
    public int ClientPort { get; private set; }

    public int PeerPort { get; private set; }

    public int WebPort { get; private set; }

    public string ClientAddress => $"127.0.0.1:{ClientPort}";

    public string PeerAddress => $"127.0.0.1:{PeerPort}";

    public string WebAddress => $"127.0.0.1:{WebPort}";

    /// <summary>This master in the server's <c>--members</c> syntax.</summary>
    public string MemberSpec => $"{Id}={ClientAddress}/{PeerAddress}/{WebAddress}";

    /// <summary>The data directory of the current incarnation (<see cref="UseFreshDataDirectory"/> starts a new one).</summary>
    public string DataDirectory => Path.Combine(_directory, _generation == 0 ? "data" : $"data-{_generation}");

    /// <summary>Flags of the last start after the ones this type adds (id, data directory, ports); a restart reuses them.</summary>
    public IReadOnlyList<string> Arguments { get; internal set; } = [];

    public bool IsRunning => _process is { HasExited: false };

    /// <summary>True between <see cref="PauseAsync"/> and <see cref="Resume"/> (or a kill).</summary>
    public bool IsPaused { get; private set; }

    /// <summary>PID of the running process (null when stopped).</summary>
    public int? Pid => IsRunning ? _process!.Pid : null;

    /// <summary>Path of the current (or last) run's output log (stdout and stderr).</summary>
    public string LogPath => Path.Combine(_directory, $"run-{Math.Max(_starts, 1)}.log");

    /// <summary>Whether the last run ended without this object stopping it (a crash, or a start that failed).</summary>
    public bool ExitedByItself => _process is { HasExited: true } && !_exitExpected;

    /// <summary>The next start uses a new, empty data directory (e.g. a removed master that joins again).</summary>
    public void UseFreshDataDirectory() => _generation++;

    /// <summary>New ports and an empty data directory for the next start (the cluster's retry after a port clash).</summary>
    internal void MoveTo(int clientPort, int peerPort, int webPort)
    {
        ClientPort = clientPort;
        PeerPort = peerPort;
        WebPort = webPort;
        UseFreshDataDirectory();
    }

    /// <summary>
    /// Starts the process with <paramref name="arguments"/> (id, data directory, bind address and
    /// ports are added) and, with <paramref name="waitReady"/>, waits for its READY line and takes
    /// its ports from it. Throws <see cref="PortInUseException"/> when a port was taken.
    /// </summary>
    public async Task StartAsync(IReadOnlyList<string> arguments, TimeSpan readyTimeout, bool waitReady = true)
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
        _exitExpected = !waitReady;
        Arguments = arguments;
        var args = new List<string>
        {
            _serverDll,
            "--id", Id.ToString(CultureInfo.InvariantCulture),
            "--data-dir", DataDirectory,
            "--bind", "127.0.0.1",
            "--client-port", ClientPort.ToString(CultureInfo.InvariantCulture),
            "--peer-port", PeerPort.ToString(CultureInfo.InvariantCulture),
            "--web-port", WebPort.ToString(CultureInfo.InvariantCulture),
        };
        args.AddRange(arguments);
        _process = ManagedProcess.Start(new ProcessSpec("dotnet", args, LogPath, new Dictionary<string, string?>
        {
            // Quiet, deterministic child: no telemetry banner, no first-run work, no inherited overrides.
            ["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1",
            ["DOTNET_NOLOGO"] = "1",
            ["HAMASTER_LOG_LEVEL"] = "Information",
        }, WorkingDirectory: _directory));
        if (!waitReady)
        {
            return;
        }

        string line;
        try
        {
            line = await _process.WaitForOutputLineAsync(ReadyLine.IsReady, readyTimeout);
        }
        catch (Exception e) when (e is TimeoutException or InvalidOperationException)
        {
            var recent = _process.RecentOutput();
            var output = string.Join(Environment.NewLine, recent.TakeLast(40));
            await _process.DisposeAsync();
            _process = null;
            _exitExpected = true;
            var message = $"master {Id} did not print its READY line within {readyTimeout.TotalSeconds:0} s ({e.Message}); log {LogPath}; last output:{Environment.NewLine}{output}";
            throw recent.Any(PortInUseException.Says) ? new PortInUseException(message, e) : new InvalidOperationException(message, e);
        }

        var ready = ReadyLine.Parse(line);
        if (ready.Id != Id) throw new InvalidOperationException($"master {Id} printed the READY line of master {ready.Id}: {line}");
        ClientPort = ready.Client.Port;
        PeerPort = ready.Peer.Port;
        WebPort = ready.Web?.Port ?? -1;
    }

    /// <summary>kill -9 and wait (bounded) for the exit to be reaped. No-op when stopped.</summary>
    public async Task KillAsync()
    {
        IsPaused = false;
        if (_process is null || _process.HasExited)
        {
            return;
        }

        // SIGKILL ends a stopped process too: no SIGCONT needed first.
        _exitExpected = true;
        _process.Kill();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(15));
        await _process.WaitForExitAsync(timeout.Token);
    }

    /// <summary>SIGTERM and wait (bounded by <paramref name="timeout"/>) for the clean exit; throws if it takes longer.</summary>
    public async Task TerminateAsync(TimeSpan timeout)
    {
        var process = _process ?? throw new InvalidOperationException($"master {Id} is not running");
        _exitExpected = true;
        process.Terminate();
        using var bound = new CancellationTokenSource(timeout);
        await process.WaitForExitAsync(bound.Token);
        IsPaused = false;
    }

    /// <summary>SIGSTOP (the process freezes, sockets stay open) and wait (bounded) until the kernel reports it stopped.</summary>
    public async Task PauseAsync()
    {
        var process = _process is { HasExited: false } p ? p : throw new InvalidOperationException($"master {Id} is not running");
        process.Pause();
        IsPaused = true;
        await Eventually.TrueAsync($"master {Id} to be stopped", () => Task.FromResult(process.IsStopped), TimeSpan.FromSeconds(10));
    }

    /// <summary>SIGCONT when paused; no-op otherwise.</summary>
    public void Resume()
    {
        if (_process is { HasExited: false } process && IsPaused)
        {
            process.Resume();
        }

        IsPaused = false;
    }

    /// <summary>Waits (bounded) for the process to exit; returns its exit code.</summary>
    public async Task<int> WaitForExitAsync(TimeSpan timeout)
    {
        var process = _process ?? throw new InvalidOperationException($"master {Id} was not started");
        using var bound = new CancellationTokenSource(timeout);
        return await process.WaitForExitAsync(bound.Token);
    }

    /// <summary>Waits (bounded) for an output line of the current run matching <paramref name="predicate"/> (lines already printed count).</summary>
    public async Task<string> WaitForOutputAsync(Func<string, bool> predicate, TimeSpan timeout) =>
        await (_process ?? throw new InvalidOperationException($"master {Id} is not running")).WaitForOutputLineAsync(predicate, timeout);

    /// <summary>Whether the current run printed a line containing <paramref name="text"/> (recent lines only).</summary>
    public bool Printed(string text) => _process?.RecentOutput().Any(l => l.Contains(text, StringComparison.Ordinal)) ?? false;

    /// <summary>The last <paramref name="lines"/> lines of output of the current (or last) run.</summary>
    public string RecentOutput(int lines = 25) =>
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
}
