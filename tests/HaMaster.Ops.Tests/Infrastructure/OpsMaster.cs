using System.Globalization;
using HaMaster.Chaos.Core.Network;
using HaMaster.Chaos.Core.Processes;

namespace HaMaster.Ops.Tests.Infrastructure;

/// <summary>
/// One master process of an <see cref="OpsCluster"/>: fixed free ports and a data directory,
/// and while it runs, the process this object started (killed by its PID only).
/// Not thread-safe: driven by one test flow.
/// </summary>
public sealed class OpsMaster : IAsyncDisposable
{
    private const string ReadyPrefix = "HAMASTER READY id=";
    private readonly string _directory;
    private ManagedProcess? _process;

    internal OpsMaster(ulong id, string clusterDirectory)
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

    public string MemberSpec => $"{Id}={ClientAddress}/{PeerAddress}/{WebAddress}";

    public string LogPath => Path.Combine(_directory, "run.log");

    public bool IsRunning => _process is { HasExited: false };

    /// <summary>The full argument list (after <c>dotnet</c>) this master runs with.</summary>
    internal List<string> Arguments(IEnumerable<string> extra)
    {
        var args = new List<string>
        {
            OpsLayout.ServerDll,
            "--id", Id.ToString(CultureInfo.InvariantCulture),
            "--data-dir", DataDirectory,
            "--bind", "127.0.0.1",
            "--client-port", ClientPort.ToString(CultureInfo.InvariantCulture),
            "--peer-port", PeerPort.ToString(CultureInfo.InvariantCulture),
            "--web-port", WebPort.ToString(CultureInfo.InvariantCulture),
        };
        args.AddRange(extra);
        return args;
    }

    /// <summary>Starts the process; with <paramref name="waitReady"/>, waits (bounded) for its READY line.</summary>
    internal async Task StartAsync(IEnumerable<string> extra, TimeSpan timeout, bool waitReady = true)
    {
        if (_process is not null)
        {
            await _process.DisposeAsync();
        }

        _process = ManagedProcess.Start(new ProcessSpec("dotnet", Arguments(extra), LogPath, new Dictionary<string, string?>
        {
            ["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1",
            ["DOTNET_NOLOGO"] = "1",
            ["HAMASTER_LOG_LEVEL"] = "Information",
        }, WorkingDirectory: _directory));
        if (!waitReady)
        {
            return;
        }

        try
        {
            await _process.WaitForOutputLineAsync(l => l.StartsWith(ReadyPrefix, StringComparison.Ordinal), timeout);
        }
        catch (Exception e) when (e is TimeoutException or InvalidOperationException)
        {
            throw new InvalidOperationException($"master {Id} did not print READY within {timeout.TotalSeconds:0} s ({e.Message}); last output:{Environment.NewLine}{RecentOutput(40)}", e);
        }
    }

    /// <summary>Waits (bounded) for the process to exit; returns its exit code.</summary>
    public async Task<int> WaitForExitAsync(TimeSpan timeout)
    {
        var process = _process ?? throw new InvalidOperationException($"master {Id} was not started");
        using var cts = new CancellationTokenSource(timeout);
        return await process.WaitForExitAsync(cts.Token);
    }

    public string RecentOutput(int lines = 20) =>
        _process is null ? "(not started)" : string.Join(Environment.NewLine, _process.RecentOutput().TakeLast(lines));

    public async ValueTask DisposeAsync()
    {
        if (_process is not null)
        {
            await _process.DisposeAsync();
            _process = null;
        }
    }
}
