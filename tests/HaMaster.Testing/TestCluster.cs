using System.Globalization;
using System.Text;
using HaMaster.Chaos.Core.Network;
using HaMaster.Chaos.Core.Processes;
using HaMaster.Client;
using HaMaster.Protos.V1;

namespace HaMaster.Testing;

/// <summary>
/// N real <c>hamaster-server</c> processes on 127.0.0.1, plus the clients and channels tests use
/// to reach them; the one harness of the cluster, ops and chaos suites.
/// <para>Ports: a master that joins (<see cref="StartJoiningMasterAsync"/>) binds port 0 and reports
/// what it got in its READY line, so it cannot collide with anything. The bootstrap members must
/// know each other's addresses before any of them starts (<c>--members</c>, the real bootstrap
/// path), so their ports are chosen up front below the kernel's ephemeral range (<see cref="FreePorts"/>);
/// if another program binds one first, the whole start is retried with new ports here, and a
/// restart on a taken port is retried for a bounded time (<see cref="StartMasterAsync"/>).</para>
/// <para>Disposal kills only the processes this cluster started (by PID), disposes its clients and
/// deletes its directory, except: a caller-owned directory (<see cref="ClusterSettings.Directory"/>)
/// stays; after a failure (a start failed, a leader wait timed out, a master exited by itself) the
/// run logs stay (data deleted); HAMASTER_KEEP_CLUSTER=1 keeps everything.</para>
/// Not thread-safe for process control (start/kill/restart); clients it hands out are.
/// </summary>
public sealed partial class TestCluster : IAsyncDisposable
{
    private const int StartAttempts = 3;
    private static readonly TimeSpan RestartPortWait = TimeSpan.FromSeconds(10);
    private readonly List<MasterProcess> _masters = [];
    private readonly HashSet<ulong> _retired = [];
    private readonly string _serverDll;
    private bool _failureSeen;

    private TestCluster(ClusterSettings settings)
    {
        Settings = settings.Validate();
        _serverDll = settings.ServerDll ?? ServerBinary.Path;
        Directory = settings.Directory ?? System.IO.Directory.CreateTempSubdirectory(settings.DirectoryPrefix).FullName;
        System.IO.Directory.CreateDirectory(Directory);
    }

    public ClusterSettings Settings { get; }

    /// <summary>Where the masters' data directories and run logs are.</summary>
    public string Directory { get; }

    /// <summary>Every master ever started by this cluster, by id.</summary>
    public IReadOnlyList<MasterProcess> Masters => _masters;

    /// <summary>Masters whose process runs (paused ones included).</summary>
    public IEnumerable<MasterProcess> Running => _masters.Where(m => m.IsRunning);

    /// <summary>Running masters that are not paused: the ones that can answer.</summary>
    public IEnumerable<MasterProcess> Responsive => _masters.Where(m => m.IsRunning && !m.IsPaused);

    /// <summary>The bootstrap members' <c>--members</c> value (<c>1=client/peer/web,...</c>).</summary>
    public string MembersSpec => string.Join(",", Bootstrap.Select(m => m.MemberSpec));

    private IEnumerable<MasterProcess> Bootstrap => _masters.Take(Settings.Size);

    public bool IsPaused(ulong id) => Master(id).IsPaused;

    /// <summary>Starts <see cref="ClusterSettings.Size"/> voters, waits for their READY lines and (unless the settings say otherwise) for a leader.</summary>
    public static async Task<TestCluster> StartAsync(ClusterSettings? settings = null)
    {
        var cluster = Create(settings);
        try
        {
            await cluster.StartAllAsync();
            return cluster;
        }
        catch
        {
            await cluster.DisposeAsync();
            throw;
        }
    }

    /// <summary>Prepares the bootstrap members (ports, directories) without starting them.</summary>
    public static TestCluster Create(ClusterSettings? settings = null)
    {
        var cluster = new TestCluster(settings ?? new ClusterSettings());
        var ports = FreePorts.Take(3 * cluster.Settings.Size);
        for (var i = 0; i < cluster.Settings.Size; i++)
        {
            cluster._masters.Add(new MasterProcess((ulong)i + 1, cluster.Directory, cluster._serverDll, ports[3 * i], ports[(3 * i) + 1], ports[(3 * i) + 2]));
        }

        return cluster;
    }

    /// <summary>
    /// Starts every bootstrap member with <c>--members</c> (plus <paramref name="extra"/> flags, e.g.
    /// <c>--restore-from</c>), waits for READY and, unless the settings say otherwise, a leader.
    /// When a master finds a port taken, all are killed and started again on new ports with empty
    /// data (at most <see cref="StartAttempts"/> times): the one place the harness retries a start.
    /// </summary>
    public async Task StartAllAsync(IReadOnlyList<string>? extra = null)
    {
        for (var attempt = 1; ; attempt++)
        {
            if (Settings.BeforeStart is { } beforeStart)
            {
                await beforeStart([.. Bootstrap]);
            }

            try
            {
                await Task.WhenAll(Bootstrap.Select(m => m.StartAsync(BootstrapArguments(m, extra), Settings.ReadyTimeout)));
                break;
            }
            catch (PortInUseException) when (attempt < StartAttempts)
            {
                await Task.WhenAll(Bootstrap.Select(m => m.KillAsync()));
                var ports = FreePorts.Take(3 * Settings.Size);
                var i = 0;
                foreach (var master in Bootstrap)
                {
                    master.MoveTo(ports[3 * i], ports[(3 * i) + 1], ports[(3 * i) + 2]);
                    i++;
                }
            }
            catch
            {
                _failureSeen = true;
                throw;
            }
        }

        if (Settings.WaitForLeader)
        {
            await WaitForLeaderAsync();
        }
    }

    /// <summary>Flags of bootstrap member <paramref name="master"/>: the common ones, its <c>--members</c>, then <paramref name="extra"/>.</summary>
    public IReadOnlyList<string> BootstrapArguments(MasterProcess master, IReadOnlyList<string>? extra = null)
    {
        var route = Settings.PeerAddressFor;
        var members = route is null
            ? MembersSpec
            : string.Join(",", Bootstrap.Select(other => $"{other.Id}={other.ClientAddress}/{(other == master ? other.PeerAddress : route(master, other))}/{other.WebAddress}"));
        return [.. Settings.CommonArguments(), "--members", members, .. extra ?? []];
    }

    public MasterProcess Master(ulong id) =>
        _masters.FirstOrDefault(m => m.Id == id) ?? throw new ArgumentOutOfRangeException(nameof(id), id, "no such master in this cluster");

    /// <summary>kill -9 master <paramref name="id"/> and reap it.</summary>
    public Task KillAsync(ulong id) => Master(id).KillAsync();

    /// <summary>kill -9 a master that left the cluster; <see cref="EnsureAllRunningAsync"/> no longer starts it.</summary>
    public async Task RetireAsync(ulong id)
    {
        _retired.Add(id);
        await KillAsync(id);
    }

    /// <summary>SIGSTOP master <paramref name="id"/>; leader waits ignore it until <see cref="Resume"/>.</summary>
    public Task PauseAsync(ulong id) => Master(id).PauseAsync();

    /// <summary>SIGCONT master <paramref name="id"/>.</summary>
    public void Resume(ulong id) => Master(id).Resume();

    /// <summary>Starts a stopped master again with the flags it last ran with (same ports, same data).</summary>
    public Task StartMasterAsync(ulong id) => StartAgainAsync(Master(id), Master(id).Arguments);

    /// <summary>Starts a stopped master again with new flags (same ports; same data unless it was told to use a fresh directory).</summary>
    public Task StartMasterAsync(ulong id, IReadOnlyList<string> arguments) => StartAgainAsync(Master(id), arguments);

    /// <summary>Starts every stopped master (e.g. after a test that failed half-way) and waits for a leader.</summary>
    public async Task EnsureAllRunningAsync()
    {
        foreach (var master in _masters.Where(m => !m.IsRunning && !_retired.Contains(m.Id)).ToList())
        {
            await StartMasterAsync(master.Id);
        }

        await WaitForLeaderAsync();
    }

    /// <summary>kill -9 then start again.</summary>
    public async Task RestartAsync(ulong id)
    {
        await KillAsync(id);
        await StartMasterAsync(id);
    }

    /// <summary>
    /// Starts a new, empty master with <c>--join</c> (the next free id, fresh data) on port 0: it
    /// reports the ports it got and keeps them for restarts. It serves but is not a member until
    /// <c>ClusterAdmin.AddMaster</c> adds it (see <see cref="AddRequestFor"/>).
    /// </summary>
    public async Task<MasterProcess> StartJoiningMasterAsync()
    {
        var master = new MasterProcess(_masters.Max(m => m.Id) + 1, Directory, _serverDll);
        _masters.Add(master);
        try
        {
            await master.StartAsync([.. Settings.CommonArguments(), "--join"], Settings.ReadyTimeout);
        }
        catch
        {
            _failureSeen = true;
            throw;
        }

        return master;
    }

    /// <summary>The AddMaster request naming <paramref name="master"/>'s addresses.</summary>
    public static AddMasterRequest AddRequestFor(MasterProcess master) => new()
    {
        Id = master.Id,
        ClientAddress = master.ClientAddress,
        PeerAddress = master.PeerAddress,
        WebAddress = master.WebAddress,
    };

    /// <summary>
    /// A restart must keep the master's ports (the others know them). A port taken meanwhile is
    /// most likely a probe of another test process (bind, then release): waited out, bounded.
    /// </summary>
    private async Task StartAgainAsync(MasterProcess master, IReadOnlyList<string> arguments)
    {
        var clock = System.Diagnostics.Stopwatch.StartNew();
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                await master.StartAsync(arguments, Settings.ReadyTimeout);
                return;
            }
            catch (PortInUseException) when (clock.Elapsed < RestartPortWait && attempt < 20)
            {
                await Task.Delay(TimeSpan.FromMilliseconds(250 * attempt));
            }
            catch
            {
                _failureSeen = true;
                throw;
            }
        }
    }

    /// <summary>Each master's state and recent output, for failure messages.</summary>
    public string Diagnostics()
    {
        var text = new StringBuilder();
        text.AppendLine(CultureInfo.InvariantCulture, $"cluster directory {Directory}");
        foreach (var m in _masters)
        {
            var state = m.IsRunning ? $"pid {m.Pid}{(m.IsPaused ? ", paused" : "")}" : "stopped";
            text.AppendLine(CultureInfo.InvariantCulture, $"--- master {m.Id} ({state}, client {m.ClientAddress}, log {m.LogPath})");
            text.AppendLine(m.RecentOutput(12));
        }

        return text.ToString();
    }

    /// <summary>Diagnostics for a wait that timed out: also marks the run as failed, so its logs are kept.</summary>
    private string FailureDiagnostics()
    {
        _failureSeen = true;
        return Diagnostics();
    }

    public async ValueTask DisposeAsync()
    {
        DisposeClients();
        var failures = new List<Exception>();
        foreach (var master in _masters)
        {
            _failureSeen |= master.ExitedByItself;
            try
            {
                await master.DisposeAsync();
            }
            catch (Exception e) when (e is TimeoutException or InvalidOperationException or OperationCanceledException)
            {
                failures.Add(e);
            }
        }

        RemoveDirectory();
        if (failures.Count > 0)
        {
            throw new AggregateException("some masters could not be stopped", failures);
        }
    }

    private void RemoveDirectory()
    {
        if (Settings.Directory is not null || Environment.GetEnvironmentVariable("HAMASTER_KEEP_CLUSTER") == "1")
        {
            return;
        }

        try
        {
            if (!_failureSeen)
            {
                System.IO.Directory.Delete(Directory, recursive: true);
                return;
            }

            // Keep the run logs of a failed run for the post-mortem; the data is rarely needed and large.
            foreach (var data in System.IO.Directory.EnumerateDirectories(Directory, "data*", SearchOption.AllDirectories).ToList())
            {
                System.IO.Directory.Delete(data, recursive: true);
            }
        }
        catch (IOException)
        {
            // A file still held open by a dying process: the OS temp cleaner takes it.
        }
    }
}
