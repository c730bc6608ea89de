using System.Globalization;
using System.Text.Json;
using System.Text;
using HaMaster.Chaos.Core.Processes;
using HaMaster.Client;
using Grpc.Core;
using HaMaster.Protos.V1;

namespace HaMaster.Cluster.Tests.Infrastructure;

/// <summary>
/// N real <c>hamaster-server</c> processes on 127.0.0.1 with free ports and temporary data
/// directories, plus the clients and channels tests use to reach them. Disposal kills only the
/// processes this cluster started (by PID), disposes its clients and deletes its directory
/// (kept when HAMASTER_KEEP_CLUSTER=1, for post-mortems).
/// Not thread-safe for process control (start/kill/restart); clients it hands out are.
/// </summary>
public sealed class TestCluster : IAsyncDisposable
{
    private static readonly TimeSpan ProbeTimeout = TimeSpan.FromSeconds(3);
    private readonly List<MasterProcess> _masters = [];
    private readonly Dictionary<ulong, IReadOnlyList<string>> _arguments = [];
    private readonly List<IDisposable> _owned = [];
    private readonly Dictionary<ulong, MasterChannel> _channels = [];
    private readonly HashSet<ulong> _retired = [];
    private readonly HashSet<ulong> _paused = [];
    private readonly string _directory;
    private readonly HttpClient _http = new() { Timeout = TimeSpan.FromSeconds(5) };

    private TestCluster(ClusterSettings settings)
    {
        Settings = settings.Validate();
        _directory = Directory.CreateTempSubdirectory("hamaster-cluster-").FullName;
    }

    public ClusterSettings Settings { get; }

    /// <summary>Every master ever started by this cluster, by id.</summary>
    public IReadOnlyList<MasterProcess> Masters => _masters;

    /// <summary>Masters whose process runs (paused ones included).</summary>
    public IEnumerable<MasterProcess> Running => _masters.Where(m => m.IsRunning);

    /// <summary>Running masters that are not paused: the ones that can answer.</summary>
    public IEnumerable<MasterProcess> Responsive => _masters.Where(m => m.IsRunning && !_paused.Contains(m.Id));

    public bool IsPaused(ulong id) => _paused.Contains(id);

    /// <summary>Starts <see cref="ClusterSettings.Size"/> voters, waits for their READY lines and for a leader.</summary>
    public static async Task<TestCluster> StartAsync(ClusterSettings? settings = null)
    {
        var cluster = new TestCluster(settings ?? new ClusterSettings());
        try
        {
            for (ulong id = 1; id <= (ulong)cluster.Settings.Size; id++)
            {
                cluster._masters.Add(new MasterProcess(id, cluster._directory));
            }

            var members = string.Join(",", cluster._masters.Select(m => m.MemberSpec));
            foreach (var master in cluster._masters)
            {
                cluster._arguments[master.Id] = [.. cluster.Settings.CommonArguments(), "--members", members];
            }

            await Task.WhenAll(cluster._masters.Select(m => m.StartAsync(cluster._arguments[m.Id], cluster.Settings.WaitTimeout)));
            await cluster.WaitForLeaderAsync();
            return cluster;
        }
        catch
        {
            await cluster.DisposeAsync();
            throw;
        }
    }

    public MasterProcess Master(ulong id) =>
        _masters.FirstOrDefault(m => m.Id == id) ?? throw new ArgumentOutOfRangeException(nameof(id), id, "no such master in this cluster");

    /// <summary>A client library instance (leader discovery, redirects, retries) seeded with the given masters (default: all).</summary>
    public HaMasterClient CreateClient(IEnumerable<ulong>? seeds = null, Func<HaMasterClientOptions, HaMasterClientOptions>? configure = null)
    {
        var addresses = (seeds ?? _masters.Select(m => m.Id)).Select(id => Master(id).ClientAddress).ToArray();
        var options = new HaMasterClientOptions
        {
            Seeds = addresses,
            CallTimeout = TimeSpan.FromSeconds(5),
            TotalRetryBudget = TimeSpan.FromSeconds(30),
            DiscoveryTimeout = TimeSpan.FromSeconds(2),
        };
        var client = new HaMasterClient(configure is null ? options : configure(options));
        lock (_owned)
        {
            _owned.Add(client);
        }

        return client;
    }

    /// <summary>
    /// A client that talks to master <paramref name="id"/> only: one attempt per call, no
    /// redirects, no discovery. What a test uses to pin a request on a follower.
    /// </summary>
    public HaMasterClient RawClient(ulong id) =>
        CreateClient([id], o => o with { FollowLeader = false, Retry = false, MaxAttempts = 1 });

    /// <summary>Bare generated clients (Grpc.Net.Client) of master <paramref name="id"/>'s client port, cached.</summary>
    public MasterChannel Channel(ulong id)
    {
        lock (_channels)
        {
            if (!_channels.TryGetValue(id, out var channel))
            {
                channel = MasterChannel.Open(new Uri($"http://{Master(id).ClientAddress}"));
                _channels[id] = channel;
            }

            return channel;
        }
    }

    /// <summary>A fresh Grpc.Net.Client channel to master <paramref name="id"/>'s client port with its own message size limits.</summary>
    public Grpc.Net.Client.GrpcChannel RawChannel(ulong id, int maxMessageBytes)
    {
        var channel = Grpc.Net.Client.GrpcChannel.ForAddress(new Uri($"http://{Master(id).ClientAddress}"), new Grpc.Net.Client.GrpcChannelOptions
        {
            MaxSendMessageSize = maxMessageBytes,
            MaxReceiveMessageSize = maxMessageBytes,
        });
        lock (_owned)
        {
            _owned.Add(channel);
        }

        return channel;
    }

    /// <summary>GetClusterInfo answered by master <paramref name="id"/> itself.</summary>
    public async Task<GetClusterInfoResponse> ClusterInfoAsync(ulong id)
    {
        return await Channel(id).Admin.GetClusterInfoAsync(new GetClusterInfoRequest(), deadline: DateTime.UtcNow + ProbeTimeout);
    }

    /// <summary>The JSON of master <paramref name="id"/>'s <c>/api/status</c> page.</summary>
    public async Task<JsonElement> WebStatusAsync(ulong id)
    {
        var text = await _http.GetStringAsync(new Uri($"http://{Master(id).WebAddress}/api/status"));
        using var document = JsonDocument.Parse(text);
        return document.RootElement.Clone();
    }

    /// <summary>
    /// Waits until exactly one running master calls itself leader and every running member of
    /// its configuration names it as leader; returns its id. Bounded by <see cref="ClusterSettings.WaitTimeout"/>.
    /// </summary>
    /// <summary>The JSON of master <paramref name="id"/>'s <c>/api/cluster</c> (what its status page shows).</summary>
    public async Task<JsonElement> WebClusterAsync(ulong id)
    {
        var text = await _http.GetStringAsync(new Uri($"http://{Master(id).WebAddress}/api/cluster"));
        using var document = JsonDocument.Parse(text);
        return document.RootElement.Clone();
    }

    /// <summary>The value of an unlabelled sample on master <paramref name="id"/>'s <c>/metrics</c> page.</summary>
    public async Task<double> MetricAsync(ulong id, string name)
    {
        var text = await _http.GetStringAsync(new Uri($"http://{Master(id).WebAddress}/metrics"));
        foreach (var line in text.Split('\n'))
        {
            if (line.StartsWith(name + " ", StringComparison.Ordinal))
            {
                return double.Parse(line.AsSpan(name.Length + 1), System.Globalization.CultureInfo.InvariantCulture);
            }
        }

        throw new InvalidOperationException($"master {id} has no metric '{name}'");
    }

    public async Task<ulong> WaitForLeaderAsync(Func<ulong, bool>? accept = null, TimeSpan? timeout = null)
    {
        var leader = await Eventually.ValueAsync("a leader every running member agrees on", async () =>
        {
            var running = Responsive.ToList();
            var answers = await Task.WhenAll(running.Select(async m =>
            {
                try
                {
                    return (Master: m, Info: (GetClusterInfoResponse?)await ClusterInfoAsync(m.Id));
                }
                catch (RpcException)
                {
                    return (Master: m, Info: null);
                }
            }));
            var leaders = answers.Where(a => a.Info is { } i && i.LeaderId == a.Master.Id).ToList();
            if (leaders.Count != 1)
            {
                return null;
            }

            var (leaderMaster, leaderInfo) = leaders[0];
            var members = leaderInfo!.Members.Select(m => m.Id).ToHashSet();
            var agreed = answers.Where(a => members.Contains(a.Master.Id)).All(a => a.Info is { } i && i.LeaderId == leaderMaster.Id);
            return agreed && (accept?.Invoke(leaderMaster.Id) ?? true) ? leaderMaster.Id.ToString(CultureInfo.InvariantCulture) : null;
        }, timeout ?? Settings.WaitTimeout, Diagnostics);
        return ulong.Parse(leader, CultureInfo.InvariantCulture);
    }

    /// <summary>The current leader and the responsive members other than it.</summary>
    public async Task<(ulong Leader, ulong[] Followers)> RolesAsync()
    {
        var leader = await WaitForLeaderAsync();
        var info = await ClusterInfoAsync(leader);
        var followers = info.Members.Select(m => m.Id).Where(id => id != leader && Responsive.Any(m => m.Id == id)).Order().ToArray();
        return (leader, followers);
    }

    /// <summary>kill -9 master <paramref name="id"/> and reap it.</summary>
    public Task KillAsync(ulong id)
    {
        _paused.Remove(id);
        return Master(id).KillAsync();
    }

    /// <summary>kill -9 a master that left the cluster; <see cref="EnsureAllRunningAsync"/> no longer starts it.</summary>
    public async Task RetireAsync(ulong id)
    {
        _retired.Add(id);
        await KillAsync(id);
    }

    /// <summary>SIGSTOP master <paramref name="id"/>; leader waits ignore it until <see cref="Resume"/>.</summary>
    public async Task PauseAsync(ulong id)
    {
        await Master(id).PauseAsync();
        _paused.Add(id);
    }

    /// <summary>SIGCONT master <paramref name="id"/>.</summary>
    public void Resume(ulong id)
    {
        Master(id).Resume();
        _paused.Remove(id);
    }

    /// <summary>Starts a stopped master again with the arguments it first ran with (same ports, same data).</summary>
    public Task StartMasterAsync(ulong id) => Master(id).StartAsync(_arguments[id], Settings.WaitTimeout);

    /// <summary>Starts every stopped master (e.g. after a test that failed half-way) and waits for a leader.</summary>
    public async Task EnsureAllRunningAsync()
    {
        foreach (var master in _masters.Where(m => !m.IsRunning && !_retired.Contains(m.Id)).ToList())
        {
            await StartMasterAsync(master.Id);
        }

        await WaitForLeaderAsync();
    }

    /// <summary>A client with long deadlines for calls that wait on the cluster (membership, transfer).</summary>
    public HaMasterClient CreateAdminClient() =>
        CreateClient(configure: o => o with { CallTimeout = TimeSpan.FromSeconds(60), TotalRetryBudget = TimeSpan.FromSeconds(90) });

    /// <summary>Every name in <paramref name="directory"/>, read from master <paramref name="id"/> alone (one attempt per page).</summary>
    public async Task<List<string>> ListNamesOnAsync(ulong id, string directory, Consistency consistency)
    {
        var names = new List<string>();
        await foreach (var entry in RawClient(id).ListAllAsync(directory, consistency: consistency))
        {
            names.Add(entry.Name);
        }

        return names;
    }

    /// <summary>kill -9 then start again.</summary>
    public async Task RestartAsync(ulong id)
    {
        await KillAsync(id);
        await StartMasterAsync(id);
    }

    /// <summary>
    /// Starts a new, empty master with <c>--join</c> (the next free id, fresh ports and data);
    /// it serves but is not a member until <c>ClusterAdmin.AddMaster</c> adds it.
    /// </summary>
    public async Task<MasterProcess> StartJoiningMasterAsync()
    {
        var id = _masters.Max(m => m.Id) + 1;
        var master = new MasterProcess(id, _directory);
        _masters.Add(master);
        _arguments[id] = [.. Settings.CommonArguments(), "--join"];
        await master.StartAsync(_arguments[id], Settings.WaitTimeout);
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

    /// <summary>Each master's state and recent output, for failure messages.</summary>
    public string Diagnostics()
    {
        var text = new StringBuilder();
        text.AppendLine(CultureInfo.InvariantCulture, $"cluster directory {_directory}");
        foreach (var m in _masters)
        {
            text.AppendLine(CultureInfo.InvariantCulture, $"--- master {m.Id} ({(m.IsRunning ? $"pid {m.Pid}" : "stopped")}, client {m.ClientAddress}, log {m.LogPath})");
            text.AppendLine(m.RecentOutput(12));
        }

        return text.ToString();
    }

    public async ValueTask DisposeAsync()
    {
        lock (_owned)
        {
            foreach (var d in _owned)
            {
                d.Dispose();
            }

            _owned.Clear();
        }

        lock (_channels)
        {
            foreach (var c in _channels.Values)
            {
                c.Channel.Dispose();
            }

            _channels.Clear();
        }

        _http.Dispose();
        var failures = new List<Exception>();
        foreach (var master in _masters)
        {
            try
            {
                await master.DisposeAsync();
            }
            catch (Exception e) when (e is TimeoutException or InvalidOperationException or OperationCanceledException)
            {
                failures.Add(e);
            }
        }

        if (Environment.GetEnvironmentVariable("HAMASTER_KEEP_CLUSTER") != "1")
        {
            try
            {
                Directory.Delete(_directory, recursive: true);
            }
            catch (IOException)
            {
                // A file still held open by a dying process: the OS temp cleaner takes it.
            }
        }

        if (failures.Count > 0)
        {
            throw new AggregateException("some masters could not be stopped", failures);
        }
    }
}
