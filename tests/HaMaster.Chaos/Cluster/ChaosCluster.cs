using System.Net;
using System.Text;
using System.Text.Json;
using HaMaster.Chaos.Core.Network;
using HaMaster.Client;
using Grpc.Core;
using HaMaster.Protos.V1;

namespace HaMaster.Chaos.Cluster;

/// <summary>
/// N real masters on 127.0.0.1 whose every peer link runs through a <see cref="NetworkFaults"/>
/// proxy: master i is started with its own --members string in which master j's peer address is
/// the proxy of the link i -> j. A master removed and added back is re-announced at its
/// <see cref="Ingress"/> proxy (AddMaster replicates one address to everyone), which the
/// nemesis cuts together with the mesh links when it isolates or partitions that master.
/// Process control is single-flow (the nemesis); the read-only probes are thread-safe.
/// </summary>
public sealed class ChaosCluster : IAsyncDisposable
{
    private static readonly TimeSpan ProbeTimeout = TimeSpan.FromSeconds(2);
    private readonly List<ChaosMaster> _masters = [];
    private readonly TcpFaultProxy[] _ingress;
    private readonly Dictionary<ulong, MasterChannel> _channels = [];
    private readonly HttpClient _http = new() { Timeout = TimeSpan.FromSeconds(3) };
    private readonly ChaosOptions _options;

    private ChaosCluster(ChaosOptions options, string directory, NetworkFaults network, TcpFaultProxy[] ingress, List<ChaosMaster> masters)
    {
        _options = options;
        Directory = directory;
        Network = network;
        _ingress = ingress;
        _masters = masters;
    }

    public string Directory { get; }

    public NetworkFaults Network { get; }

    public IReadOnlyList<ChaosMaster> Masters => _masters;

    public IEnumerable<ChaosMaster> Running => _masters.Where(m => m.IsRunning);

    /// <summary>The proxy a re-added master is announced at (one per master, forwarding to its real peer port).</summary>
    public TcpFaultProxy Ingress(ChaosMaster master) => _ingress[master.Index];

    public static async Task<ChaosCluster> StartAsync(ChaosOptions options, string directory)
    {
        var n = options.Masters;
        var ports = ChaosMaster.FreePorts(3 * n);
        var masters = Enumerable.Range(0, n)
            .Select(i => new ChaosMaster((ulong)i + 1, i, directory, ports[3 * i], ports[(3 * i) + 1], ports[(3 * i) + 2]))
            .ToList();
        var network = NetworkFaults.Start(masters.Select(m => (EndPoint)m.PeerEndPoint).ToList(), options.Seed);
        var ingress = masters.Select(m => TcpFaultProxy.Start(m.PeerEndPoint, HashCode.Combine(options.Seed, m.Index, "ingress"))).ToArray();
        var cluster = new ChaosCluster(options, directory, network, ingress, masters);
        try
        {
            // Each master has its own --members string (peer addresses are per-link proxies), so an
            // id derived from it would differ per master and the masters would refuse each other:
            // the cluster id is given explicitly, the same to all.
            var clusterId = $"chaos-{options.Seed}";
            foreach (var master in masters)
            {
                var members = string.Join(",", masters.Select(other =>
                {
                    var peer = other == master ? other.PeerEndPoint : network.Address(master.Index, other.Index);
                    return $"{other.Id}={other.ClientAddress}/127.0.0.1:{peer.Port}/{other.WebAddress}";
                }));
                master.Arguments = [.. options.CommonServerArguments(), "--members", members, "--cluster-id", clusterId];
            }

            await Task.WhenAll(masters.Select(m => m.StartAsync(options.ServerDll, TimeSpan.FromSeconds(60))));
            return cluster;
        }
        catch
        {
            await cluster.DisposeAsync();
            throw;
        }
    }

    public ChaosMaster Master(ulong id) => _masters.Single(m => m.Id == id);

    public Task StartAsync(ChaosMaster master) => master.StartAsync(_options.ServerDll, TimeSpan.FromSeconds(60));

    /// <summary>A client-library instance seeded with every master.</summary>
    /// <param name="maxAttempts">Attempts per call (default 40); the budget bounds them as well.</param>
    public HaMasterClient CreateClient(TimeSpan callTimeout, TimeSpan retryBudget, int maxAttempts = 40) => new(new HaMasterClientOptions
    {
        Seeds = _masters.Select(m => m.ClientAddress).ToArray(),
        CallTimeout = callTimeout,
        TotalRetryBudget = retryBudget,
        DiscoveryTimeout = TimeSpan.FromSeconds(1),
        MaxBackoff = TimeSpan.FromMilliseconds(500),
        MaxAttempts = maxAttempts,
    });

    /// <summary>The shared raw gRPC channel to a master's client port (no retries, no redirects).</summary>
    public MasterChannel Channel(ulong id)
    {
        lock (_channels)
        {
            if (!_channels.TryGetValue(id, out var channel))
            {
                channel = MasterChannel.Open(new Uri($"http://{Master(id).ClientAddress}"), connectTimeout: TimeSpan.FromSeconds(2));
                _channels[id] = channel;
            }

            return channel;
        }
    }

    public async Task<GetClusterInfoResponse?> ClusterInfoAsync(ulong id)
    {
        try
        {
            var response = await Channel(id).Admin.GetClusterInfoAsync(new GetClusterInfoRequest(), deadline: DateTime.UtcNow + ProbeTimeout);
            return response;
        }
        catch (RpcException)
        {
            return null;
        }
    }

    /// <summary>The running, unpaused master that calls itself leader with the highest term, or null.</summary>
    public async Task<ChaosMaster?> FindLeaderAsync()
    {
        var candidates = Running.Where(m => !m.IsPaused).ToList();
        var answers = await Task.WhenAll(candidates.Select(async m => (Master: m, Info: await ClusterInfoAsync(m.Id))));
        return answers.Where(a => a.Info is { } i && i.LeaderId == a.Master.Id)
            .OrderByDescending(a => a.Info!.Term)
            .Select(a => a.Master)
            .FirstOrDefault();
    }

    /// <summary>Current voters according to the leader (or any master that answers).</summary>
    public async Task<IReadOnlyList<ulong>> VotersAsync()
    {
        foreach (var master in Running.Where(m => !m.IsPaused))
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

        foreach (var master in _masters)
        {
            master.Resume();
        }

        foreach (var master in _masters.Where(m => !m.IsRunning))
        {
            await StartAsync(master);
        }
    }

    public string Diagnostics()
    {
        var text = new StringBuilder();
        text.AppendLine($"cluster directory {Directory}");
        foreach (var m in _masters)
        {
            text.AppendLine($"--- master {m.Id} ({(m.IsRunning ? $"pid {m.Pid}{(m.IsPaused ? ", paused" : "")}" : "stopped")}, log {m.LogPath})");
            text.AppendLine(m.RecentOutput(8));
        }

        return text.ToString();
    }

    public async ValueTask DisposeAsync()
    {
        lock (_channels)
        {
            foreach (var channel in _channels.Values)
            {
                channel.Channel.Dispose();
            }

            _channels.Clear();
        }

        _http.Dispose();
        foreach (var master in _masters)
        {
            await master.DisposeAsync();
        }

        await Network.DisposeAsync();
        foreach (var proxy in _ingress)
        {
            await proxy.DisposeAsync();
        }
    }
}
