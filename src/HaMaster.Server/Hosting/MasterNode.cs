using System.Net;
using Grpc.AspNetCore.Server;
using HaMaster.Journal;
using HaMaster.Metadata;
using HaMaster.Protos.V1;
using HaMaster.Raft;
using HaMaster.Rocks;
using HaMaster.Server.Configuration;
using HaMaster.Server.Peers;
using HaMaster.Server.Observability;
using HaMaster.Server.Raft;
using HaMaster.Server.Services;
using HaMaster.Server.Workers;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace HaMaster.Server.Hosting;

/// <summary>
/// One master process: opens its storage (Raft log, hard state, snapshots, metastore), wires
/// the Raft loop to the peer transport and the services, and serves the client port (file
/// system, workers, admin) and the peer port (Raft) on Kestrel. The composition root.
/// </summary>
internal sealed class MasterNode : IAsyncDisposable
{
    private readonly List<IAsyncDisposable> _servers = [];
    private readonly ILoggerFactory _loggerFactory;
    private readonly PrometheusCollector _collector;

    private readonly JournalProposer _proposer;
    private readonly Observability.ThreadPoolLag _threadPoolLag = new();

    // The leader's TTL checker; built by StartAsync.
    private Ttl.TtlChecker? _ttlChecker;

    // Null in the simple (header identity) mode; built by Open.
    private ClientAuthentication? _clientAuth;

    // Fires first on shutdown: ends the long-lived peer streams other masters hold open into
    // this one, which would otherwise keep the server waiting for them until its shutdown timeout.
    private readonly CancellationTokenSource _stopping = new();
    private ForwardStreams? _forwardStreams;

    private MasterNode(MasterOptions options, ILoggerFactory loggerFactory, RaftLog log, MetadataStateMachine machine, RaftHost host, PeerChannels channels, PeerTransport transport, JournalProposer proposer, WorkerLivenessTracker liveness)
    {
        _proposer = proposer;
        Options = options;
        _loggerFactory = loggerFactory;
        Log = log;
        Machine = machine;
        Host = host;
        Channels = channels;
        Transport = transport;
        Liveness = liveness;
        Digest = new StateDigest(machine);
        _collector = new PrometheusCollector(Metrics.Meter);
    }

    public MasterOptions Options { get; }

    public RaftLog Log { get; }

    public MetadataStateMachine Machine { get; }

    public RaftHost Host { get; }

    public PeerChannels Channels { get; }

    public PeerTransport Transport { get; }

    public WorkerLivenessTracker Liveness { get; }

    public ClusterAdminService? Admin { get; private set; }

    /// <summary>The id of this master's cluster, checked on every peer call (ClusterIdInterceptor).</summary>
    public ClusterIdentity Cluster { get; private init; } = ClusterIdentity.Fixed(null);

    public MasterMetrics Metrics { get; } = new();

    /// <summary>The state digest for /api/digest: off the Raft loop, one at a time, cached per applied index.</summary>
    public StateDigest Digest { get; }

    public int ClientPort { get; private set; }

    public int PeerPort { get; private set; }

    /// <summary>host:port of the HTTP status endpoint, or null when off.</summary>
    public string? WebAddress { get; private set; }

    /// <summary>Opens storage and recovers; does not serve yet.</summary>
    public static MasterNode Open(MasterOptions options, ILoggerFactory loggerFactory)
    {
        options.Validate();
        // Client authentication's files (CA, keys, group mapping) are read first: a bad one stops the
        // start with its message before any storage is opened.
        var clientAuth = options.ClientAuth == ClientAuthModes.Simple ? null : ClientAuthentication.Create(options);
        var logger = loggerFactory.CreateLogger("HaMaster.Master");
        var data = Path.GetFullPath(options.DataDirectory);
        Directory.CreateDirectory(data);

        var log = RaftLog.Open(new RaftLogOptions
        {
            Directory = Path.Combine(data, "raft-log"),
            SegmentBytes = options.LogSegmentBytes,
            Fsync = options.Fsync,
        });
        if (log.Recovery.TornTailTruncated) LogMessages.LogRecovered(logger, log.Recovery.Detail ?? "torn tail truncated");

        var hardState = HardStateFile.Open(Path.Combine(data, "hardstate"));
        var snapshots = new SnapshotStore(Path.Combine(data, "snapshots"), options.SnapshotsKept);
        var machine = MetadataStateMachine.Open(Path.Combine(data, "metastore"), new MetastoreOptions
        {
            Kind = options.Metastore,
            InodeCacheMaxEntries = options.InodeCacheMaxEntries,
            RocksDb = new RocksDbOptions { BlockCacheBytes = options.RocksBlockCacheBytes },
            MaxListLimit = options.MaxListPageSize,
        });

        var bootstrapConfig = options.Join ? ClusterConfig.Empty : new ClusterConfig(options.InitialMembers.Select(m => m.Id));
        var directory = new MemberDirectory();
        foreach (var m in options.InitialMembers)
        {
            directory.Members.Add(new MasterAddress { Id = m.Id, ClientAddress = m.ClientAddress, PeerAddress = m.PeerAddress, WebAddress = m.WebAddress });
        }

        if (directory.Members.All(m => m.Id != options.NodeId))
        {
            directory.Members.Add(new MasterAddress { Id = options.NodeId, ClientAddress = options.ClientAddress, PeerAddress = options.PeerAddress });
        }

        var cluster = ClusterIdentity.Open(data, options.ClusterId, options.Join, options.InitialMembers);
        if (cluster.Id is { } clusterId) LogMessages.ClusterId(logger, clusterId, cluster.Source);
        var clusterStateFile = new ClusterStateFile(data);
        if (options.RestoreFrom is { } archive && !clusterStateFile.Exists && snapshots.Latest is null && log.LastIndex == 0)
        {
            BackupImport.Import(archive, snapshots, hardState, ClusterStateFile.Create(bootstrapConfig, directory), logger);
        }

        var host = new RaftHost(options, loggerFactory.CreateLogger("HaMaster.Raft"), log, hardState, snapshots,
            new MetadataStateMachineHost(machine), clusterStateFile, bootstrapConfig, directory);
        // Mutual TLS between masters: this master presents its own certificate on peer calls.
        var peerCertificate = options.MutualTlsBetweenMasters
            ? System.Security.Cryptography.X509Certificates.X509CertificateLoader.LoadPkcs12FromFile(options.TlsCertificatePath!, options.TlsCertificatePassword)
            : null;
        var channels = new PeerChannels(options.MaxMessageBytes, options.ClusterSecret, options.NodeId, options.PeerAddress, options.TlsCertificatePath is not null, options.TlsTrustedCertificatePath, peerCertificate, cluster);
        var sender = new SnapshotSender(() => host, channels, loggerFactory.CreateLogger("HaMaster.Snapshots"));
        var transport = new PeerTransport(host, channels, sender, loggerFactory.CreateLogger("HaMaster.Transport"));
        host.Transport = transport;
        var proposer = new JournalProposer(host, options);
        var liveness = new WorkerLivenessTracker(machine, proposer, host, options.WorkerTimeout, options.WorkerGracePeriod ?? options.WorkerTimeout, loggerFactory.CreateLogger("HaMaster.Workers"));
        return new MasterNode(options, loggerFactory, log, machine, host, channels, transport, proposer, liveness) { _clientAuth = clientAuth, Cluster = cluster };
    }

    /// <summary>Starts the Raft loop and both gRPC ports.</summary>
    public async Task StartAsync(CancellationToken cancellationToken)
    {
        var options = Options;
        // A call that arrives during an election waits for its outcome up to two election timeouts (issue 19).
        _forwardStreams = new ForwardStreams(Channels, options.MaxMessageBytes, _loggerFactory.CreateLogger("HaMaster.Forward"));
        var forwarded = new ForwardedCalls(Host, _forwardStreams, options.DefaultCallTimeout, options.TickInterval * (2 * options.ElectionTicks));
        var bind = IPAddress.Parse(options.BindAddress);
        var authLogger = _loggerFactory.CreateLogger("HaMaster.Auth");

        RegisterGauges();
        var readPermissions = options.EnforcePermissions ? new ReadPermissions(Machine, options.SuperUser, options.SuperGroup) : null;
        var fileSystem = new FileSystemService(Machine, _proposer, options.DefaultCallTimeout, forwarded, readPermissions, metrics: Metrics);
        var blocks = new BlockMasterService(Machine, _proposer, Liveness, Host, options.DefaultCallTimeout, forwarded);
        Admin = new ClusterAdminService(Host, Channels, forwarded);
        var admin = Admin;
        var raftPeer = new RaftPeerService(Host, forwarded, options.MaxMessageBytes, _loggerFactory.CreateLogger("HaMaster.Forward"), _stopping.Token);

        // Interceptors, outermost first: metrics see the final status; the leader trailer goes on
        // every answer, refusals included; domain errors become statuses in one place.
        var metrics = new RpcMetricsInterceptor(Metrics);
        var leaderTrailer = new LeaderTrailerInterceptor(Host);
        // Who the caller is: verified (--auth tls/jwt) or, in the insecure simple mode, as the headers say.
        var clientAuth = _clientAuth;
        var identity = clientAuth is null ? new CallerIdentityInterceptor() : null;
        var authenticated = clientAuth is null ? null : new AuthenticatedCallerInterceptor(clientAuth, authLogger);
        if (clientAuth is null && (options.EnforcePermissions || !IPAddress.IsLoopback(bind))) LogMessages.SimpleAuthentication(authLogger);
        if (options.ClientAuth.HasFlag(ClientAuthModes.Jwt) && options.TlsCertificatePath is null) LogMessages.TokensOverCleartext(authLogger);
        var rateLimit = options.RateLimitPerClient > 0
            ? new RateLimitInterceptor(options.RateLimitPerClient, options.RateLimitBurst ?? Math.Max(1, options.RateLimitPerClient * 2))
            : null;
        // Membership and leadership changes need the cluster secret on the client port too (with
        // mutual TLS between masters and no secret: a client certificate of the masters' CA).
        static bool AdminChange(string m) => m.StartsWith($"/{ClusterAdminService.ServiceName}/", StringComparison.Ordinal) && !m.EndsWith("/GetClusterInfo", StringComparison.Ordinal);
        var adminSecret = options.ClusterSecret is { } secret ? new ClusterSecretInterceptor(secret, AdminChange, authLogger) : null;
        // With --auth tls the client port's handshake accepts any certificate (the caller's identity
        // is checked per call), so the admin check verifies the masters' CA itself.
        Func<System.Security.Cryptography.X509Certificates.X509Certificate2, bool>? mastersCa = null;
        if (options.ClientAuth.HasFlag(ClientAuthModes.Tls) && options.TlsTrustedCertificatePath is { } mastersAuthority)
        {
            var chainsTo = Peers.PeerTls.ChainsTo(mastersAuthority);
            mastersCa = certificate => chainsTo(certificate, null, System.Net.Security.SslPolicyErrors.None);
        }

        var adminCertificate = options.ClusterSecret is null && options.MutualTlsBetweenMasters ? new ClusterCertificateInterceptor(AdminChange, authLogger, mastersCa) : null;
        var peerSecret = options.ClusterSecret is { } s2 ? new ClusterSecretInterceptor(s2, _ => true, authLogger, () => Metrics.PeerRejected("unauthenticated")) : null;
        var clusterIdCheck = new ClusterIdInterceptor(Cluster, Metrics.PeerRejected, authLogger);

        // Admission control of the client port: refusals are counted and logged at most once per
        // reason per 10 s (README, Overload and limits).
        var admission = new ClientAdmission(options.ConnectionLimits, new RejectionLog(Metrics.Meter, _loggerFactory.CreateLogger("HaMaster.Admission")));
        Metrics.ObserveGauge("hamaster_client_calls_in_progress", () => admission.InProgress, description: "Client calls admitted and not finished.");
        Metrics.ObserveGauge("hamaster_client_buffered_request", () => admission.BufferedBytes, "By", "Bytes of unfinished client request messages the master holds.");
        Metrics.ObserveGauge("hamaster_threadpool_queue_delay_max", () => _threadPoolLag.MaxRecentSeconds, "s", "Largest wait of a work item in the thread pool's queue in the last 10 s (peer traffic waits as long).");

        Host.Metrics = Metrics;
        Host.Start();
        Liveness.Start();
        _ttlChecker = Ttl.TtlChecker.ForHost(
            Machine,
            _proposer,
            Host,
            new Ttl.TtlCheckerOptions { Interval = options.TtlCheckInterval, MaxInodesPerRound = options.TtlMaxInodesPerRound, ProposalTimeout = options.DefaultCallTimeout },
            Metrics,
            _loggerFactory.CreateLogger("HaMaster.Ttl"));
        _ttlChecker.Start();

        var peerPort = await GrpcPort.StartAsync(new GrpcPortOptions
        {
            Address = bind,
            Port = options.PeerPort,
            CertificatePath = options.TlsCertificatePath,
            CertificatePassword = options.TlsCertificatePassword,
            // Without a cluster secret, mutual TLS is what authenticates the other masters.
            RequireClientCertificateFrom = options.ClusterSecret is null && options.MutualTlsBetweenMasters ? options.TlsTrustedCertificatePath : null,
            MaxMessageBytes = options.MaxMessageBytes,
            Limits = options.ConnectionLimits,
            LoggerFactory = _loggerFactory,
            ConfigureServices = services =>
            {
                services.AddSingleton(raftPeer);
                AddInterceptor(services, peerSecret);
                AddInterceptor(services, clusterIdCheck);
            },
            ConfigureGrpc = grpc =>
            {
                AddInterceptor(grpc, peerSecret);
                // After the secret, before any handler parses a Raft message.
                AddInterceptor(grpc, clusterIdCheck);
                grpc.Interceptors.Add<ErrorStatusInterceptor>();
                grpc.Interceptors.Add<CallerIdentityInterceptor>();
            },
            MapServices = app => app.MapGrpcService<RaftPeerService>(),
        }, cancellationToken).ConfigureAwait(false);
        _servers.Add(peerPort);
        PeerPort = peerPort.Port;

        var clientPort = await GrpcPort.StartAsync(new GrpcPortOptions
        {
            Address = bind,
            Port = options.ClientPort,
            CertificatePath = options.TlsCertificatePath,
            CertificatePassword = options.TlsCertificatePassword,
            AllowClientCertificateFrom = adminCertificate is not null ? options.TlsTrustedCertificatePath : null,
            ConfigureHttps = clientAuth is null ? null : clientAuth.ConfigureHttps,
            MaxMessageBytes = options.MaxMessageBytes,
            Limits = options.ConnectionLimits,
            LoggerFactory = _loggerFactory,
            Admission = admission,
            ConfigureServices = services =>
            {
                clientAuth?.AddServices(services);
                services.AddSingleton(fileSystem);
                services.AddSingleton(blocks);
                services.AddSingleton(admin);
                AddInterceptor(services, metrics);
                AddInterceptor(services, leaderTrailer);
                services.AddSingleton(new AdmissionInterceptor(admission));
                AddInterceptor(services, identity);
                AddInterceptor(services, authenticated);
                AddInterceptor(services, rateLimit);
                AddInterceptor(services, adminSecret);
                AddInterceptor(services, adminCertificate);
                services.AddSingleton(Host);
                // grpc.health.v1.Health: SERVING exactly when /readyz says ready, for every service name.
                services.AddGrpcHealthChecks(health =>
                {
                    // Every Check asks Readiness now (no result cached by the health check publisher).
                    health.UseHealthChecksCache = false;
                    foreach (var name in new[] { "", FileSystemService.ServiceName, BlockMasterService.ServiceName, ClusterAdminService.ServiceName })
                    {
                        health.Services.Map(name, _ => true);
                    }
                }).AddCheck<ReadinessHealthCheck>("ready");
                services.AddGrpcReflection();
            },
            ConfigureGrpc = grpc =>
            {
                AddInterceptor(grpc, metrics);
                AddInterceptor(grpc, leaderTrailer);
                grpc.Interceptors.Add<ErrorStatusInterceptor>();
                // Malformed identity headers and grpc-timeout: INVALID_ARGUMENT before anything uses them.
                grpc.Interceptors.Add<RequestHeaderCheckInterceptor>();
                AddInterceptor(grpc, identity);
                AddInterceptor(grpc, authenticated);
                // After authentication: each caller (principal, else remote address) gets its fair
                // share of the calls in progress (ClientAdmission.EnterCall).
                grpc.Interceptors.Add<AdmissionInterceptor>();
                AddInterceptor(grpc, rateLimit);
                AddInterceptor(grpc, adminSecret);
                AddInterceptor(grpc, adminCertificate);
            },
            MapServices = app =>
            {
                app.MapGrpcService<FileSystemService>();
                app.MapGrpcService<BlockMasterService>();
                app.MapGrpcService<ClusterAdminService>();
                app.MapGrpcHealthChecksService();
                app.MapGrpcReflectionService();
            },
        }, cancellationToken).ConfigureAwait(false);
        _servers.Add(clientPort);
        ClientPort = clientPort.Port;
        if (options.WebPort >= 0)
        {
            var web = await WebEndpoint.StartAsync(this, _collector, bind, options.WebPort, _clientAuth, cancellationToken).ConfigureAwait(false);
            _servers.Add(web);
            WebAddress = web.Address;
        }
    }

    /// <summary>Registers a configured interceptor instance so grpc-dotnet uses it for every call (null: none).</summary>
    private static void AddInterceptor<T>(IServiceCollection services, T? interceptor)
        where T : CallInterceptor
    {
        if (interceptor is not null) services.AddSingleton(interceptor);
    }

    private static void AddInterceptor<T>(GrpcServiceOptions grpc, T? interceptor)
        where T : CallInterceptor
    {
        if (interceptor is not null) grpc.Interceptors.Add<T>();
    }

    private void RegisterGauges()
    {
        var process = System.Diagnostics.Process.GetCurrentProcess();
        var metastore = Path.Combine(Path.GetFullPath(Options.DataDirectory), "metastore");
        Metrics.ObserveGauge("hamaster_raft_term", () => Host.Observed.Term, description: "Current Raft term.");
        Metrics.ObserveGauge("hamaster_raft_commit_index", () => Host.Observed.CommitIndex, description: "Highest log index known committed.");
        Metrics.ObserveGauge("hamaster_raft_applied_index", () => Host.Observed.AppliedIndex, description: "Highest log index applied to the state machine.");
        Metrics.ObserveGauge("hamaster_raft_last_log_index", () => Host.Observed.LastLogIndex, description: "Last index in this master's log.");
        Metrics.ObserveGauge("hamaster_raft_snapshot_index", () => Host.Observed.SnapshotIndex, description: "Index of the newest snapshot.");
        Metrics.ObserveCounter("hamaster_raft_linearizable_reads", () => Host.LinearizableReads, "Linearizable reads this master had confirmed by the leader (ReadIndex answered).");
        Metrics.ObserveCounter("hamaster_raft_read_index_requests", () => Host.ReadIndexRequests, "ReadIndex requests this master issued (one confirms a whole batch of linearizable reads).");
        Metrics.ObserveGauge("hamaster_raft_is_leader", () => Host.Observed.IsLeader ? 1 : 0, description: "1 if this master is the leader.");
        Metrics.ObserveGauge("hamaster_snapshot_size", () => Host.Snapshots.Latest?.TotalBytes ?? 0, "By", "Size of the newest snapshot.");
        Metrics.ObserveGauge("hamaster_inodes", () => Machine.Counts.Inodes, description: "Inodes in the namespace.");
        Metrics.ObserveGauge("hamaster_blocks", () => Machine.Counts.Blocks, description: "Blocks known to the master.");
        Metrics.ObserveGauge("hamaster_workers_live", () => Machine.ListWorkers().Count(w => w.State == WorkerState.Live), description: "Registered workers not declared lost.");
        Metrics.ObserveGauge("hamaster_workers_lost", () => Machine.ListWorkers().Count(w => w.State == WorkerState.Lost), description: "Workers declared lost.");
        Metrics.ObserveCounter("hamaster_inode_cache_hits", () => Machine.InodeCache.Hits, "Inode cache hits.");
        Metrics.ObserveCounter("hamaster_inode_cache_misses", () => Machine.InodeCache.Misses, "Inode cache misses.");
        Metrics.ObserveGauge("hamaster_inode_cache_entries", () => Machine.InodeCache.Entries, description: "Inodes in the cache.");
        Metrics.ObserveGauge("hamaster_rocksdb_memory", () => Machine.RocksMemoryBytes, "By", "RocksDB memtables plus block cache in use.");
        Metrics.ObserveGauge("hamaster_rocksdb_sst", () => DirectoryBytes(metastore, "*.sst"), "By", "Bytes of RocksDB SST files of the metastore.");
        Metrics.ObserveGauge("hamaster_process_resident_memory", () =>
        {
            process.Refresh();
            return process.WorkingSet64;
        }, "By", "Resident set size of the master process.");
        Metrics.ObserveGauge("hamaster_process_managed_heap", () => GC.GetTotalMemory(false), "By", "Managed heap in use.");
        Metrics.ObserveGarbageCollector();
    }

    private static long DirectoryBytes(string directory, string pattern)
    {
        try
        {
            return Directory.Exists(directory)
                ? new DirectoryInfo(directory).EnumerateFiles(pattern, SearchOption.AllDirectories).Sum(f => f.Length)
                : 0;
        }
        catch (IOException)
        {
            return 0;
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _stopping.CancelAsync().ConfigureAwait(false);
        foreach (var s in Enumerable.Reverse(_servers))
        {
            await s.DisposeAsync().ConfigureAwait(false);
        }

        Liveness.Dispose();
        _ttlChecker?.Dispose();
        Digest.Dispose();
        Host.Dispose();
        Transport.Dispose();
        _forwardStreams?.Dispose();
        Channels.Dispose();
        Machine.Dispose();
        Log.Dispose();
        _collector.Dispose();
        Metrics.Dispose();
        _threadPoolLag.Dispose();
        _stopping.Dispose();
    }
}
