using System.Globalization;
using System.Text;
using HaMaster.Chaos.Core.Processes;
using HaMaster.Client;
using Grpc.Core;
using HaMaster.Protos.V1;

namespace HaMaster.Ops.Tests.Infrastructure;

/// <summary>How an <see cref="OpsCluster"/> runs its masters.</summary>
public sealed record OpsClusterOptions
{
    /// <summary>Voting masters (default 3).</summary>
    public int Size { get; init; } = 3;

    /// <summary>Flags added to every master (e.g. <c>--cluster-secret s</c>, <c>--rate-limit 5</c>).</summary>
    public IReadOnlyList<string> ExtraArguments { get; init; } = [];

    /// <summary>Non-null = masters serve TLS with this PFX and trust this CA for peer calls; clients use https.</summary>
    public TestCertificates? Tls { get; init; }

    /// <summary>Client certificate the cluster's own clients and channels present (masters started with --auth tls).</summary>
    public System.Security.Cryptography.X509Certificates.X509Certificate2? ClientCertificate { get; init; }

    /// <summary>Bearer token the cluster's own clients and channels send (masters started with --auth jwt).</summary>
    public string? BearerToken { get; init; }

    /// <summary>Bound of every wait for READY or a leader (default 40 s: builds may run alongside).</summary>
    public TimeSpan WaitTimeout { get; init; } = TimeSpan.FromSeconds(40);
}

/// <summary>
/// N real <c>hamaster-server</c> processes on 127.0.0.1 (free ports, 50 ms ticks, temporary data
/// directories) and the clients tests use. Disposal kills only the processes it started, by PID,
/// and deletes its directory (kept when HAMASTER_KEEP_CLUSTER=1).
/// Process control is not thread-safe; the clients it hands out are.
/// </summary>
public sealed class OpsCluster : IAsyncDisposable
{
    private readonly List<OpsMaster> _masters = [];
    private readonly List<OpsMaster> _joiners = [];
    private readonly List<IDisposable> _owned = [];
    private readonly Dictionary<string, MasterChannel> _channels = new(StringComparer.Ordinal);
    private readonly string _directory;

    private OpsCluster(OpsClusterOptions options)
    {
        Options = options;
        _directory = Directory.CreateTempSubdirectory("hamaster-ops-").FullName;
    }

    public OpsClusterOptions Options { get; }

    public IReadOnlyList<OpsMaster> Masters => _masters;

    /// <summary>Members flag value (<c>1=client/peer/web,...</c>).</summary>
    public string MembersSpec => string.Join(",", _masters.Select(m => m.MemberSpec));

    /// <summary>Prepares masters (ports, directories) without starting them.</summary>
    public static OpsCluster Create(OpsClusterOptions? options = null)
    {
        var cluster = new OpsCluster(options ?? new OpsClusterOptions());
        for (ulong id = 1; id <= (ulong)cluster.Options.Size; id++)
        {
            cluster._masters.Add(new OpsMaster(id, cluster._directory));
        }

        return cluster;
    }

    /// <summary>Starts every master (plus <paramref name="extra"/> flags), waits for READY and a leader.</summary>
    public static async Task<OpsCluster> StartAsync(OpsClusterOptions? options = null, IReadOnlyList<string>? extra = null)
    {
        var cluster = Create(options);
        try
        {
            await cluster.StartAllAsync(extra ?? []);
            return cluster;
        }
        catch
        {
            await cluster.DisposeAsync();
            throw;
        }
    }

    /// <summary>Every master's flags: timing, members, TLS and the options' extra flags, then <paramref name="extra"/>.</summary>
    public IReadOnlyList<string> CommonArguments(IEnumerable<string>? extra = null)
    {
        var args = new List<string> { "--tick-ms", "50", "--election-ticks", "16", "--members", MembersSpec };
        if (Options.Tls is { } tls)
        {
            args.AddRange(["--tls-cert", tls.ServerPfxPath, "--tls-cert-password", tls.PfxPassword, "--tls-trusted-cert", tls.AuthorityPemPath]);
        }

        args.AddRange(Options.ExtraArguments);
        args.AddRange(extra ?? []);
        return args;
    }

    public async Task StartAllAsync(IReadOnlyList<string> extra)
    {
        var args = CommonArguments(extra);
        await Task.WhenAll(_masters.Select(m => m.StartAsync(args, Options.WaitTimeout)));
        await WaitForLeaderAsync();
    }

    public OpsMaster Master(ulong id) => _masters.Concat(_joiners).First(m => m.Id == id);

    /// <summary>
    /// Starts an empty master with <c>--join</c> (next id, fresh ports): it serves but is not a
    /// member until ClusterAdmin.AddMaster adds it. Leader waits ignore it.
    /// </summary>
    public async Task<OpsMaster> StartJoiningMasterAsync()
    {
        var master = new OpsMaster(_masters.Concat(_joiners).Max(m => m.Id) + 1, _directory);
        _joiners.Add(master);
        var args = new List<string> { "--tick-ms", "50", "--election-ticks", "16", "--join" };
        if (Options.Tls is { } tls)
        {
            args.AddRange(["--tls-cert", tls.ServerPfxPath, "--tls-cert-password", tls.PfxPassword, "--tls-trusted-cert", tls.AuthorityPemPath]);
        }

        args.AddRange(Options.ExtraArguments);
        await master.StartAsync(args, Options.WaitTimeout);
        return master;
    }

    /// <summary>A retrying, leader-following client seeded with every master.</summary>
    public HaMasterClient CreateClient(Func<HaMasterClientOptions, HaMasterClientOptions>? configure = null)
    {
        var options = new HaMasterClientOptions
        {
            Seeds = _masters.Select(m => m.ClientAddress).ToArray(),
            CallTimeout = TimeSpan.FromSeconds(5),
            TotalRetryBudget = TimeSpan.FromSeconds(30),
            DiscoveryTimeout = TimeSpan.FromSeconds(2),
            Tls = ClientTlsOptions(),
            BearerToken = Options.BearerToken,
        };
        var client = new HaMasterClient(configure is null ? options : configure(options));
        Own(client);
        return client;
    }

    /// <summary>A bare Grpc.Net.Client channel with generated clients (cached per address) to a master's client or peer port, http or https as the cluster serves.</summary>
    public MasterChannel Channel(string hostPort)
    {
        lock (_channels)
        {
            if (!_channels.TryGetValue(hostPort, out var channel))
            {
                channel = Options.Tls is not null
                    ? MasterChannel.Open(new Uri($"https://{hostPort}"), ClientTlsOptions())
                    : MasterChannel.Open(new Uri($"http://{hostPort}"));
                _channels[hostPort] = channel;
                Own(channel.Channel);
            }

            return channel;
        }
    }

    /// <summary>GetClusterInfo answered by master <paramref name="id"/> itself (one attempt, 3 s).</summary>
    public async Task<GetClusterInfoResponse> ClusterInfoAsync(ulong id)
    {
        return await Channel(Master(id).ClientAddress).Admin.GetClusterInfoAsync(new GetClusterInfoRequest(), CallHeaders(), DateTime.UtcNow.AddSeconds(3));
    }

    /// <summary>Headers of this cluster's own calls: the bearer token when the options give one.</summary>
    public Metadata? CallHeaders() => Options.BearerToken is { } token ? new Metadata { { "authorization", "Bearer " + token } } : null;

    /// <summary>TLS settings of this cluster's clients: trust the test CA; present the client certificate when the options give one.</summary>
    private System.Net.Security.SslClientAuthenticationOptions? ClientTlsOptions()
    {
        if (Options.Tls is not { } tls) return null;
        var trusting = ClientTls.TrustingAuthority(tls.Authority);
        return Options.ClientCertificate is { } certificate ? ClientTls.WithClientCertificate(trusting, certificate) : trusting;
    }

    /// <summary>Waits (bounded) until one master calls itself leader and every master names it; returns its id.</summary>
    public async Task<ulong> WaitForLeaderAsync(Func<ulong, bool>? accept = null)
    {
        var leader = await Eventually.ValueAsync("a leader every master agrees on", async () =>
        {
            var answers = await Task.WhenAll(_masters.Where(m => m.IsRunning).Select(m => ClusterInfoAsync(m.Id)));
            var ids = answers.Select(a => a.LeaderId).Distinct().ToList();
            return ids.Count == 1 && ids[0] != 0 && answers.Length == _masters.Count && (accept?.Invoke(ids[0]) ?? true)
                ? ids[0].ToString(CultureInfo.InvariantCulture)
                : null;
        }, Options.WaitTimeout, Diagnostics);
        return ulong.Parse(leader, CultureInfo.InvariantCulture);
    }

    public string Diagnostics()
    {
        var text = new StringBuilder();
        text.AppendLine(CultureInfo.InvariantCulture, $"cluster directory {_directory}");
        foreach (var m in _masters)
        {
            text.AppendLine(CultureInfo.InvariantCulture, $"--- master {m.Id} ({(m.IsRunning ? "running" : "stopped")}, client {m.ClientAddress}, log {m.LogPath})");
            text.AppendLine(m.RecentOutput(12));
        }

        return text.ToString();
    }

    private void Own(IDisposable disposable)
    {
        lock (_owned)
        {
            _owned.Add(disposable);
        }
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

        foreach (var master in _masters.Concat(_joiners))
        {
            await master.DisposeAsync();
        }

        if (Environment.GetEnvironmentVariable("HAMASTER_KEEP_CLUSTER") != "1")
        {
            try
            {
                Directory.Delete(_directory, recursive: true);
            }
            catch (IOException)
            {
                // A file still held by a dying process: the OS temp cleaner takes it.
            }
        }
    }
}
