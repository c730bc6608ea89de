using System.Globalization;
using System.Text.Json;
using Grpc.Core;
using HaMaster.Chaos.Core.Processes;
using HaMaster.Client;
using HaMaster.Protos.V1;

namespace HaMaster.Testing;

/// <summary>The clients, channels and probes a <see cref="TestCluster"/> hands out (thread-safe), and the leader waits.</summary>
public sealed partial class TestCluster
{
    private static readonly TimeSpan ProbeTimeout = TimeSpan.FromSeconds(3);
    private readonly List<IDisposable> _owned = [];
    private readonly Dictionary<string, MasterChannel> _channels = new(StringComparer.Ordinal);
    private readonly HttpClient _http = new() { Timeout = TimeSpan.FromSeconds(5) };

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
            Tls = Settings.ClientTls,
            BearerToken = Settings.BearerToken,
        };
        var client = new HaMasterClient(configure is null ? options : configure(options));
        Own(client);
        return client;
    }

    /// <summary>A retrying, leader-following client seeded with every master.</summary>
    public HaMasterClient CreateClient(Func<HaMasterClientOptions, HaMasterClientOptions> configure) => CreateClient(null, configure);

    /// <summary>
    /// A client that talks to master <paramref name="id"/> only: one attempt per call, no
    /// redirects, no discovery. What a test uses to pin a request on a follower.
    /// </summary>
    public HaMasterClient RawClient(ulong id) =>
        CreateClient([id], o => o with { FollowLeader = false, Retry = false, MaxAttempts = 1 });

    /// <summary>A client with long deadlines for calls that wait on the cluster (membership, transfer).</summary>
    public HaMasterClient CreateAdminClient() =>
        CreateClient(configure: o => o with { CallTimeout = TimeSpan.FromSeconds(60), TotalRetryBudget = TimeSpan.FromSeconds(90) });

    /// <summary>Bare generated clients (Grpc.Net.Client) of master <paramref name="id"/>'s client port, cached.</summary>
    public MasterChannel Channel(ulong id) => Channel(Master(id).ClientAddress);

    /// <summary>Bare generated clients of any master port (client or peer), cached per address; https when the cluster serves TLS.</summary>
    public MasterChannel Channel(string hostPort)
    {
        lock (_channels)
        {
            if (!_channels.TryGetValue(hostPort, out var channel))
            {
                // A short connect timeout: a probe of a stopped master fails fast instead of holding a leader wait.
                channel = Settings.ClientTls is { } tls
                    ? MasterChannel.Open(new Uri($"https://{hostPort}"), tls, TimeSpan.FromSeconds(2))
                    : MasterChannel.Open(new Uri($"http://{hostPort}"), connectTimeout: TimeSpan.FromSeconds(2));
                _channels[hostPort] = channel;
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
        Own(channel);
        return channel;
    }

    /// <summary>Headers of this cluster's own calls: the bearer token when the settings give one.</summary>
    public Metadata? CallHeaders() => Settings.BearerToken is { } token ? new Metadata { { "authorization", "Bearer " + token } } : null;

    /// <summary>GetClusterInfo answered by master <paramref name="id"/> itself (one attempt, 3 s).</summary>
    public async Task<GetClusterInfoResponse> ClusterInfoAsync(ulong id) =>
        await Channel(id).Admin.GetClusterInfoAsync(new GetClusterInfoRequest(), CallHeaders(), DateTime.UtcNow + ProbeTimeout);

    /// <summary>The JSON of master <paramref name="id"/>'s <c>/api/status</c> page.</summary>
    public Task<JsonElement> WebStatusAsync(ulong id) => WebJsonAsync(id, "/api/status");

    /// <summary>The JSON of master <paramref name="id"/>'s <c>/api/cluster</c> (what its status page shows).</summary>
    public Task<JsonElement> WebClusterAsync(ulong id) => WebJsonAsync(id, "/api/cluster");

    /// <summary>The JSON of any page of master <paramref name="id"/>'s web port.</summary>
    public async Task<JsonElement> WebJsonAsync(ulong id, string path)
    {
        var text = await _http.GetStringAsync(new Uri($"http://{Master(id).WebAddress}{path}"));
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
                return double.Parse(line.AsSpan(name.Length + 1), CultureInfo.InvariantCulture);
            }
        }

        throw new InvalidOperationException($"master {id} has no metric '{name}'");
    }

    /// <summary><c>appliedIndex:digest</c> of master <paramref name="id"/>, from its <c>/api/digest</c>.</summary>
    public async Task<string> DigestAsync(ulong id)
    {
        var root = await WebJsonAsync(id, "/api/digest");
        return root.GetProperty("appliedIndex").GetUInt64().ToString(CultureInfo.InvariantCulture) + ":" + root.GetProperty("digest").GetString();
    }

    /// <summary>The applied index part of <see cref="DigestAsync"/>.</summary>
    public async Task<ulong> AppliedIndexAsync(ulong id) =>
        ulong.Parse((await DigestAsync(id)).Split(':')[0], CultureInfo.InvariantCulture);

    /// <summary>Waits (bounded) until every running master reaches the same applied index with the same digest.</summary>
    public Task AllDigestsEqualAsync(TimeSpan wait) => Eventually.TrueAsync("every master to hold the same state digest", async () =>
    {
        var digests = new HashSet<string>(StringComparer.Ordinal);
        foreach (var master in Running.ToList()) digests.Add(await DigestAsync(master.Id));
        return digests.Count == 1;
    }, wait, FailureDiagnostics);

    /// <summary>
    /// Waits until exactly one responsive master calls itself leader and every responsive member of
    /// its configuration names it as leader; returns its id. Bounded by <see cref="ClusterSettings.WaitTimeout"/>.
    /// </summary>
    public async Task<ulong> WaitForLeaderAsync(Func<ulong, bool>? accept = null, TimeSpan? timeout = null)
    {
        var leader = await Eventually.ValueAsync("a leader every running member agrees on", async () =>
        {
            var answers = await Task.WhenAll(Responsive.ToList().Select(async m =>
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
        }, timeout ?? Settings.WaitTimeout, FailureDiagnostics);
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

    private void Own(IDisposable disposable)
    {
        lock (_owned)
        {
            _owned.Add(disposable);
        }
    }

    private void DisposeClients()
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
    }
}
