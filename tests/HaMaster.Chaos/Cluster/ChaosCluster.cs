using System.Net;
using System.Text.Json;
using HaMaster.Chaos.Core.Network;
using HaMaster.Client;
using HaMaster.Protos.V1;
using HaMaster.Testing;

namespace HaMaster.Chaos.Cluster;

/// <summary>
/// The chaos run's cluster: a <see cref="TestCluster"/> (the shared process harness) whose every
/// peer link runs through a <see cref="NetworkFaults"/> proxy: master i is started with its own
/// --members string in which master j's peer address is the proxy of the link i -> j. A master
/// removed and added back is re-announced at its <see cref="Ingress"/> proxy (AddMaster replicates
/// one address to everyone), which the nemesis cuts together with the mesh links when it isolates
/// or partitions that master. Masters' positions in the mesh are id - 1 (<see cref="Index"/>).
/// Process control is single-flow (the nemesis); the read-only probes are thread-safe.
/// </summary>
public sealed class ChaosCluster : IAsyncDisposable
{
    private readonly HttpClient _http = new() { Timeout = TimeSpan.FromSeconds(3) };
    private TestCluster _cluster = null!;
    private NetworkFaults? _network;
    private TcpFaultProxy[] _ingress = [];

    private ChaosCluster()
    {
    }

    public string Directory => _cluster.Directory;

    public NetworkFaults Network => _network ?? throw new InvalidOperationException("the proxies are not started");

    public IReadOnlyList<MasterProcess> Masters => _cluster.Masters;

    public IEnumerable<MasterProcess> Running => _cluster.Running;

    /// <summary>Position of <paramref name="master"/> in the proxy mesh.</summary>
    public static int Index(MasterProcess master) => (int)master.Id - 1;

    /// <summary>The proxy a re-added master is announced at (one per master, forwarding to its real peer port).</summary>
    public TcpFaultProxy Ingress(MasterProcess master) => _ingress[Index(master)];

    public static async Task<ChaosCluster> StartAsync(ChaosOptions options, string directory)
    {
        var chaos = new ChaosCluster();
        chaos._cluster = TestCluster.Create(new ClusterSettings
        {
            Size = options.Masters,
            TickMs = options.TickMs,
            ElectionTicks = options.ElectionTicks,
            SnapshotEvery = options.SnapshotEvery,
            LogKeep = options.LogKeep,
            // Each master has its own --members string (peer addresses are per-link proxies), so an
            // id derived from it would differ per master and the masters would refuse each other:
            // the cluster id is given explicitly, the same to all.
            ClusterId = $"chaos-{options.Seed}",
            PeerAddressFor = (self, other) => $"127.0.0.1:{chaos.Network.Address(Index(self), Index(other)).Port}",
            BeforeStart = masters => chaos.StartProxiesAsync(masters, options.Seed),
            WaitForLeader = false,
            ServerDll = options.ServerDll,
            Directory = directory,
        });
        try
        {
            await chaos._cluster.StartAllAsync();
            return chaos;
        }
        catch
        {
            await chaos.DisposeAsync();
            throw;
        }
    }

    public MasterProcess Master(ulong id) => _cluster.Master(id);

    /// <summary>Starts a stopped master again (same ports, same data, same flags).</summary>
    public Task StartAsync(MasterProcess master) => _cluster.StartMasterAsync(master.Id);

    /// <summary>Starts a removed master afresh: empty data, <c>--join</c>, same ports (the nemesis then adds it at its ingress proxy).</summary>
    public Task RejoinAsync(MasterProcess master)
    {
        master.UseFreshDataDirectory();
        return _cluster.StartMasterAsync(master.Id, [.. _cluster.Settings.CommonArguments(), "--join"]);
    }

    /// <summary>A client-library instance seeded with every master.</summary>
    /// <param name="maxAttempts">Attempts per call (default 40); the budget bounds them as well.</param>
    public HaMasterClient CreateClient(TimeSpan callTimeout, TimeSpan retryBudget, int maxAttempts = 40) => new(new HaMasterClientOptions
    {
        Seeds = Masters.Select(m => m.ClientAddress).ToArray(),
        CallTimeout = callTimeout,
        TotalRetryBudget = retryBudget,
        DiscoveryTimeout = TimeSpan.FromSeconds(1),
        MaxBackoff = TimeSpan.FromMilliseconds(500),
        MaxAttempts = maxAttempts,
    });

    /// <summary>The shared raw gRPC channel to a master's client port (no retries, no redirects).</summary>
    public MasterChannel Channel(ulong id) => _cluster.Channel(id);

    /// <summary>GetClusterInfo answered by master <paramref name="id"/> itself, or null when it does not answer.</summary>
    public async Task<GetClusterInfoResponse?> ClusterInfoAsync(ulong id)
    {
        try
        {
            return await _cluster.ClusterInfoAsync(id);
        }
        catch (Grpc.Core.RpcException)
        {
            return null;
        }
    }

    /// <summary>The running, unpaused master that calls itself leader with the highest term, or null.</summary>
    public async Task<MasterProcess?> FindLeaderAsync()
    {
        var answers = await Task.WhenAll(_cluster.Responsive.ToList().Select(async m => (Master: m, Info: await ClusterInfoAsync(m.Id))));
        return answers.Where(a => a.Info is { } i && i.LeaderId == a.Master.Id)
            .OrderByDescending(a => a.Info!.Term)
            .Select(a => a.Master)
            .FirstOrDefault();
    }

    /// <summary>Current voters according to the leader (or any master that answers).</summary>
    public async Task<IReadOnlyList<ulong>> VotersAsync()
    {
        foreach (var master in _cluster.Responsive.ToList())
        {
            if (await ClusterInfoAsync(master.Id) is { } info && info.LeaderId != 0)
            {
                return info.Members.Where(m => m.Voter).Select(m => m.Id).Order().ToArray();
            }
        }

        return [];
    }

    /// <summary>(applied index, digest) of master <paramref name="id"/> from /api/digest, or null.</summary>
    public async Task<(ulong AppliedIndex, string Digest)?> DigestAsync(ulong id)
    {
        try
        {
            var text = await _http.GetStringAsync(new Uri($"http://{Master(id).WebAddress}/api/digest"));
            using var document = JsonDocument.Parse(text);
            var root = document.RootElement;
            return (root.GetProperty("appliedIndex").GetUInt64(), root.GetProperty("digest").ToString());
        }
        catch (Exception e) when (e is HttpRequestException or TaskCanceledException or JsonException or KeyNotFoundException or InvalidOperationException)
        {
            return null;
        }
    }

    /// <summary>Heals the network, resumes paused masters and starts every stopped master (the harness never retires one).</summary>
    public async Task HealAllAsync()
    {
        Network.Heal();
        foreach (var proxy in _ingress)
        {
            proxy.Pass();
        }

        foreach (var master in Masters)
        {
            master.Resume();
        }

        foreach (var master in Masters.Where(m => !m.IsRunning).ToList())
        {
            await StartAsync(master);
        }
    }

    public string Diagnostics() => _cluster.Diagnostics();

    /// <summary>The mesh and ingress proxies in front of the masters' peer ports (again, on new ports, after a port clash).</summary>
    private async ValueTask StartProxiesAsync(IReadOnlyList<MasterProcess> masters, int seed)
    {
        await StopProxiesAsync();
        var peers = masters.Select(m => new IPEndPoint(IPAddress.Loopback, m.PeerPort)).ToList();
        _network = NetworkFaults.Start(peers.Cast<EndPoint>().ToList(), seed);
        _ingress = peers.Select((peer, i) => TcpFaultProxy.Start(peer, HashCode.Combine(seed, i, "ingress"))).ToArray();
    }

    private async ValueTask StopProxiesAsync()
    {
        if (_network is not null)
        {
            await _network.DisposeAsync();
            _network = null;
        }

        foreach (var proxy in _ingress)
        {
            await proxy.DisposeAsync();
        }

        _ingress = [];
    }

    public async ValueTask DisposeAsync()
    {
        _http.Dispose();
        await _cluster.DisposeAsync();
        await StopProxiesAsync();
    }
}
