using System.Globalization;
using HaMaster.Metadata;

namespace HaMaster.Server.Configuration;

/// <summary>Addresses of one master, as "host:port" strings.</summary>
public sealed record MasterEndpoint(ulong Id, string ClientAddress, string PeerAddress, string WebAddress)
{
    /// <summary>
    /// Parses "id=client/peer[/web]", e.g. "1=127.0.0.1:19200/127.0.0.1:19300/127.0.0.1:19400".
    /// </summary>
    public static MasterEndpoint Parse(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        var eq = text.IndexOf('=', StringComparison.Ordinal);
        if (eq <= 0 || !ulong.TryParse(text.AsSpan(0, eq), NumberStyles.None, CultureInfo.InvariantCulture, out var id) || id == 0)
        {
            throw new FormatException($"member '{text}': expected 'id=clientHost:port/peerHost:port[/webHost:port]' with a non-zero numeric id");
        }

        var parts = text[(eq + 1)..].Split('/', StringSplitOptions.TrimEntries);
        if (parts.Length is < 2 or > 3 || parts.Any(p => !IsHostPort(p)))
        {
            throw new FormatException($"member '{text}': expected 'id=clientHost:port/peerHost:port[/webHost:port]'");
        }

        return new MasterEndpoint(id, parts[0], parts[1], parts.Length == 3 ? parts[2] : "");
    }

    /// <summary>Parses a comma-separated list of members.</summary>
    public static IReadOnlyList<MasterEndpoint> ParseList(string? text) =>
        string.IsNullOrWhiteSpace(text)
            ? []
            : text.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Select(Parse).ToList();

    /// <summary>True for "host:port" with a port in 1..65535.</summary>
    public static bool IsHostPort(string value)
    {
        var colon = value.LastIndexOf(':');
        return colon > 0
            && int.TryParse(value.AsSpan(colon + 1), NumberStyles.None, CultureInfo.InvariantCulture, out var port)
            && port is > 0 and < 65536;
    }

    public override string ToString() => WebAddress.Length == 0 ? $"{Id}={ClientAddress}/{PeerAddress}" : $"{Id}={ClientAddress}/{PeerAddress}/{WebAddress}";
}

/// <summary>
/// Configuration of one master process. Bound from appsettings.json (section "HaMaster"),
/// environment variables (HAMASTER_NodeId, ...) and command-line flags (see <c>Program</c>).
/// Immutable; <see cref="Validate"/> throws with the first problem found.
/// </summary>
public sealed record MasterOptions
{
    /// <summary>This master's id: non-zero and unique in the cluster.</summary>
    public ulong NodeId { get; init; }

    /// <summary>Address to bind every port to (default 127.0.0.1).</summary>
    public string BindAddress { get; init; } = "127.0.0.1";

    /// <summary>Port of the client/worker/admin gRPC API (default 19200; 0 = any free port).</summary>
    public int ClientPort { get; init; } = 19200;

    /// <summary>Port of the internal Raft peer API (default 19300; 0 = any free port).</summary>
    public int PeerPort { get; init; } = 19300;

    /// <summary>Port of the HTTP status page, /metrics, /healthz and /readyz (default 19400; 0 = any, -1 = off).</summary>
    public int WebPort { get; init; } = 19400;

    /// <summary>Address other masters and clients use for this master's client API (default BindAddress:ClientPort).</summary>
    public string? AdvertisedClientAddress { get; init; }

    /// <summary>Address other masters use for this master's peer API (default BindAddress:PeerPort).</summary>
    public string? AdvertisedPeerAddress { get; init; }

    /// <summary>Directory holding the Raft log, hard state, snapshots and the metastore.</summary>
    public string DataDirectory { get; init; } = "data";

    /// <summary>
    /// The initial voting members (including this one) when bootstrapping a new cluster.
    /// Ignored when the data directory already holds state, and when <see cref="Join"/> is set.
    /// </summary>
    public IReadOnlyList<MasterEndpoint> InitialMembers { get; init; } = [];

    /// <summary>Start empty and wait to be added by the leader (ClusterAdmin.AddMaster), instead of bootstrapping.</summary>
    public bool Join { get; init; }

    /// <summary>
    /// A backup archive (<c>hamaster cluster backup</c>) to start a NEW cluster from: on first
    /// start with an empty data directory, the archive's snapshot becomes this master's initial
    /// state, with <see cref="InitialMembers"/> as the new membership. Ignored once the data
    /// directory holds state.
    /// </summary>
    public string? RestoreFrom { get; init; }

    /// <summary>Interval of the Raft clock (default 100 ms, as etcd). Election and heartbeat timeouts are multiples of it.</summary>
    public TimeSpan TickInterval { get; init; } = TimeSpan.FromMilliseconds(100);

    /// <summary>
    /// Election timeout in ticks (default 10 = 1 s; randomized in [1x, 2x)). 5 (0.5-1 s) replaces a paused leader
    /// within about 1.1-1.4 s of writes lost, but on a heavily loaded machine it cost leadership under issue 17's
    /// overload run (docs/failover.md); pre-vote, check-quorum leases and the heartbeat pump keep either safe.
    /// </summary>
    public int ElectionTicks { get; init; } = 10;

    /// <summary>Leader heartbeat interval in ticks (default 1 = 100 ms).</summary>
    public int HeartbeatTicks { get; init; } = 1;

    /// <summary>Take a snapshot after this many entries were applied since the last one (default 100,000, as etcd).</summary>
    public long SnapshotEveryEntries { get; init; } = 100_000;

    /// <summary>Entries kept in the log behind the newest snapshot for slightly lagging followers (default 5,000).</summary>
    public long LogEntriesKeptBehindSnapshot { get; init; } = 5_000;

    /// <summary>Snapshots kept on disk (default 2).</summary>
    public int SnapshotsKept { get; init; } = 2;

    /// <summary>Segment size of the Raft log in bytes (default 64 MiB).</summary>
    public long LogSegmentBytes { get; init; } = 64L << 20;

    /// <summary>fsync the Raft log and hard state before acknowledging (default true; false only for tests).</summary>
    public bool Fsync { get; init; } = true;

    /// <summary>Metastore implementation (default Rocks).</summary>
    public MetastoreKind Metastore { get; init; } = MetastoreKind.Rocks;

    /// <summary>Max inodes in the cache in front of RocksDB (default 200,000; 0 = no cache).</summary>
    public int InodeCacheMaxEntries { get; init; } = 200_000;

    /// <summary>RocksDB block cache in bytes (default 128 MiB).</summary>
    public long RocksBlockCacheBytes { get; init; } = 128L << 20;

    /// <summary>Block size given to new files that do not ask for one (default 64 MiB).</summary>
    public long DefaultBlockSizeBytes { get; init; } = 64L << 20;

    /// <summary>A worker silent for this long is declared lost by the leader (default 30 s).</summary>
    public TimeSpan WorkerTimeout { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>Time a newly elected leader waits for heartbeats before it may declare workers lost (default = WorkerTimeout).</summary>
    public TimeSpan? WorkerGracePeriod { get; init; }

    /// <summary>Time between two rounds of the leader's TTL checker (default 1 s).</summary>
    public TimeSpan TtlCheckInterval { get; init; } = TimeSpan.FromSeconds(1);

    /// <summary>Most expiry-index entries one TTL checker round examines and proposes (default 1,000).</summary>
    public int TtlMaxInodesPerRound { get; init; } = 1000;

    /// <summary>Server-side limit on one call's duration when the client sets no deadline (default 30 s).</summary>
    public TimeSpan DefaultCallTimeout { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>Maximum gRPC message size in bytes, both directions (default 8 MiB).</summary>
    public int MaxMessageBytes { get; init; } = 8 << 20;

    /// <summary>Maximum entries per ListStatus page (default 10,000; requests asking for more get this many).</summary>
    public int MaxListPageSize { get; init; } = 10_000;

    /// <summary>Shared secret required on peer and admin calls (header hamaster-cluster-secret); null = none.</summary>
    public string? ClusterSecret { get; init; }

    /// <summary>
    /// File holding the cluster secret (--cluster-secret-file; content trimmed): read into
    /// <see cref="ClusterSecret"/> when the configuration is loaded. Keeps the secret out of the
    /// command line and the environment (Kubernetes Secret volume, Compose secret, systemd credential).
    /// </summary>
    public string? ClusterSecretFile { get; init; }

    /// <summary>
    /// The cluster's id (--cluster-id; 1-64 of A-Z a-z 0-9 . _ -), sent on every peer call and
    /// checked by every master, so clusters sharing a secret never talk. Null (default): a
    /// bootstrapping master derives it from <see cref="InitialMembers"/>, a joining one adopts its
    /// cluster's. Stored in the data directory on first start (<c>cluster.id</c>); a different
    /// value later stops the start. Set it when two clusters are bootstrapped from identical
    /// member lists (copied deploy files).
    /// </summary>
    public string? ClusterId { get; init; }

    /// <summary>Shortest cluster secret accepted, in UTF-8 bytes.</summary>
    public const int MinClusterSecretBytes = 16;

    /// <summary>PKCS#12 (.pfx) certificate for TLS on the client and peer ports; null = cleartext HTTP/2 (default).</summary>
    public string? TlsCertificatePath { get; init; }

    public string? TlsCertificatePassword { get; init; }

    /// <summary>
    /// Certificate (PEM or DER) of the authority that signed the other masters' certificates, for
    /// peer calls over TLS; null = the system's trusted roots.
    /// </summary>
    public string? TlsTrustedCertificatePath { get; init; }

    /// <summary>
    /// Kestrel's HTTP/2 limits on the client and peer ports (streams per connection, keep-alive
    /// pings, idle and handshake timeouts, windows); defaults are tuned for many mostly idle client
    /// connections (README, Connections), and the client port's admission control (README,
    /// Overload and limits: --max-calls-in-progress, --max-buffered-request-bytes; the rest in
    /// appsettings or HAMASTER_ variables).
    /// </summary>
    public Hosting.GrpcPortLimits ConnectionLimits { get; init; } = new();

    /// <summary>Requests per second allowed per client (user at an IP) on the client port; 0 = unlimited (default).</summary>
    public double RateLimitPerClient { get; init; }

    /// <summary>Burst size of the per-client rate limit (default 2 seconds' worth, at least 1).</summary>
    public double? RateLimitBurst { get; init; }

    /// <summary>
    /// Check the caller (headers hamaster-user / hamaster-groups) against owner, group and mode on
    /// every write, as POSIX does (default false: a cluster starts open; turn it on once clients
    /// send their identity). The policy travels in each journal entry, so all replicas agree.
    /// </summary>
    public bool EnforcePermissions { get; init; }

    /// <summary>
    /// Serve the web port's <c>/api/status</c> and <c>/api/cluster</c> (what the status page
    /// shows) to loopback callers without credentials although security is on (default false;
    /// --open-status-api). For a development machine's browser (<c>scripts/run.sh</c>); remote
    /// callers still need the cluster secret or a bearer token, and <c>/api/digest</c> always does.
    /// </summary>
    public bool OpenStatusApi { get; init; }

    /// <summary>
    /// True when the web port's <c>/api/*</c> endpoints need a credential: a cluster secret,
    /// caller authentication or mutual TLS between masters is configured.
    /// </summary>
    public bool SecurityOn => ClusterSecret is not null || ClientAuth != ClientAuthModes.Simple || MutualTlsBetweenMasters;

    /// <summary>The user that bypasses permission checks (default "root").</summary>
    public string SuperUser { get; init; } = "root";

    /// <summary>Members of this group bypass permission checks (default "supergroup").</summary>
    public string SuperGroup { get; init; } = "supergroup";

    /// <summary>True when the other masters must present a certificate signed by <see cref="TlsTrustedCertificatePath"/> on the peer port.</summary>
    public bool MutualTlsBetweenMasters => TlsCertificatePath is not null && TlsTrustedCertificatePath is not null;

    /// <summary>True when <see cref="BindAddress"/> is a loopback address (127.0.0.0/8, ::1): only this machine reaches the ports.</summary>
    public bool BindsLoopbackOnly => System.Net.IPAddress.TryParse(BindAddress, out var ip) && System.Net.IPAddress.IsLoopback(ip);

    /// <summary>Reads a cluster secret file: its content, trimmed; refuses a missing, empty or too short secret.</summary>
    public static string ReadClusterSecretFile(string path)
    {
        string text;
        try
        {
            text = File.ReadAllText(path).Trim();
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new ArgumentException($"ClusterSecretFile '{path}' cannot be read ({e.GetType().Name}).");
        }

        if (text.Length == 0) throw new ArgumentException($"ClusterSecretFile '{path}' is empty.");
        if (System.Text.Encoding.UTF8.GetByteCount(text) < MinClusterSecretBytes) throw new ArgumentException($"ClusterSecretFile '{path}': the secret is shorter than {MinClusterSecretBytes} bytes.");
        return text;
    }

    /// <summary>True when others than the owner and group may read the file (a warning at startup).</summary>
    public static bool IsWorldReadable(string path)
    {
        if (OperatingSystem.IsWindows()) return false;
        try
        {
            return (File.GetUnixFileMode(path) & UnixFileMode.OtherRead) != 0;
        }
        catch (IOException)
        {
            return false;
        }
    }

    /// <summary>
    /// How callers on the client port authenticate (--auth; default <see cref="ClientAuthModes.Simple"/>:
    /// the hamaster-user / hamaster-groups headers are believed as sent, INSECURE, for development).
    /// Tls: a client certificate chained to <see cref="ClientCaPath"/>; Jwt: a bearer token checked
    /// with <see cref="JwtKeyFile"/> or <see cref="JwtJwksFile"/>; both may be on together.
    /// </summary>
    public ClientAuthModes ClientAuth { get; init; } = ClientAuthModes.Simple;

    /// <summary>PEM file with the certificate authorities client certificates must chain to (--client-ca; Tls mode).</summary>
    public string? ClientCaPath { get; init; }

    /// <summary>
    /// Groups of authenticated users (--group-mapping): lines "user: group1,group2" (first = primary
    /// group; '#' starts a comment) or a JSON object {"user": ["group1", ...]}. A user not listed
    /// (and, with Jwt, whose token has no groups claim) has one group named like the user. Read at start.
    /// </summary>
    public string? GroupMappingPath { get; init; }

    /// <summary>Key for JWT signatures (--jwt-key-file): a PEM public key (RS256/ES256) or the raw HS256 secret (at least 32 bytes).</summary>
    public string? JwtKeyFile { get; init; }

    /// <summary>A JSON Web Key Set file with the keys of JWT signatures (--jwt-jwks-file), instead of <see cref="JwtKeyFile"/>.</summary>
    public string? JwtJwksFile { get; init; }

    /// <summary>Required JWT issuer (--jwt-issuer, claim iss); null = not checked.</summary>
    public string? JwtIssuer { get; init; }

    /// <summary>Required JWT audience (--jwt-audience, claim aud); null = not checked.</summary>
    public string? JwtAudience { get; init; }

    /// <summary>JWT claim naming the user (--jwt-user-claim, default "sub").</summary>
    public string JwtUserClaim { get; init; } = "sub";

    /// <summary>JWT claim listing the user's groups (--jwt-groups-claim, default "groups").</summary>
    public string JwtGroupsClaim { get; init; } = "groups";

    public string ClientAddress => AdvertisedClientAddress ?? $"{BindAddress}:{ClientPort}";

    public string PeerAddress => AdvertisedPeerAddress ?? $"{BindAddress}:{PeerPort}";

    /// <summary>Throws <see cref="ArgumentException"/> describing the first invalid setting.</summary>
    public MasterOptions Validate()
    {
        if (NodeId == 0) throw new ArgumentException("NodeId must be a non-zero integer (--id).");
        if (ClientPort is < 0 or > 65535) throw new ArgumentException($"ClientPort {ClientPort} is not a port number.");
        if (PeerPort is < 0 or > 65535) throw new ArgumentException($"PeerPort {PeerPort} is not a port number.");
        if (WebPort is < -1 or > 65535) throw new ArgumentException($"WebPort {WebPort} is not a port number (-1 = off).");
        if (string.IsNullOrWhiteSpace(DataDirectory)) throw new ArgumentException("DataDirectory must be set (--data-dir).");
        if (TickInterval <= TimeSpan.Zero) throw new ArgumentException("TickInterval must be positive.");
        if (ElectionTicks <= HeartbeatTicks) throw new ArgumentException($"ElectionTicks ({ElectionTicks}) must exceed HeartbeatTicks ({HeartbeatTicks}).");
        if (HeartbeatTicks <= 0) throw new ArgumentException("HeartbeatTicks must be positive.");
        if (SnapshotEveryEntries <= 0) throw new ArgumentException("SnapshotEveryEntries must be positive.");
        if (LogEntriesKeptBehindSnapshot < 0) throw new ArgumentException("LogEntriesKeptBehindSnapshot must be >= 0.");
        if (SnapshotsKept < 1) throw new ArgumentException("SnapshotsKept must be at least 1.");
        if (InodeCacheMaxEntries < 0) throw new ArgumentException("InodeCacheMaxEntries must be >= 0.");
        if (DefaultBlockSizeBytes < (long)Metadata.InputLimits.MinBlockSizeBytes || DefaultBlockSizeBytes > (long)Metadata.InputLimits.MaxBlockSizeBytes)
        {
            throw new ArgumentException($"DefaultBlockSizeBytes {DefaultBlockSizeBytes} is outside {Metadata.InputLimits.MinBlockSizeBytes}..{Metadata.InputLimits.MaxBlockSizeBytes}.");
        }
        if (WorkerTimeout <= TimeSpan.Zero) throw new ArgumentException("WorkerTimeout must be positive.");
        new Ttl.TtlCheckerOptions { Interval = TtlCheckInterval, MaxInodesPerRound = TtlMaxInodesPerRound }.Validate();
        if (MaxMessageBytes < 1024) throw new ArgumentException("MaxMessageBytes must be at least 1024.");
        ConnectionLimits.Validate();
        if (TlsCertificatePath is not null && !File.Exists(TlsCertificatePath)) throw new ArgumentException($"TlsCertificatePath '{TlsCertificatePath}' does not exist.");
        if (TlsTrustedCertificatePath is not null && !File.Exists(TlsTrustedCertificatePath)) throw new ArgumentException($"TlsTrustedCertificatePath '{TlsTrustedCertificatePath}' does not exist.");
        if (ClusterSecret is not null && System.Text.Encoding.UTF8.GetByteCount(ClusterSecret) < MinClusterSecretBytes)
        {
            throw new ArgumentException($"ClusterSecret must be at least {MinClusterSecretBytes} bytes (generate one with: head -c 32 /dev/urandom | base64).");
        }

        if (ClusterId is not null && Peers.ClusterIdentity.Problem(ClusterId) is { } badId) throw new ArgumentException($"ClusterId '{ClusterId}': {badId}.");
        if (!BindsLoopbackOnly && ClusterSecret is null && !MutualTlsBetweenMasters)
        {
            throw new ArgumentException(
                $"BindAddress {BindAddress} is not a loopback address, so other machines reach the peer port: masters must authenticate each other. "
                + "Set a cluster secret (--cluster-secret-file PATH, or ClusterSecret / HAMASTER_ClusterSecret) "
                + "or mutual TLS between masters (--tls-cert and --tls-trusted-cert).");
        }

        if (RateLimitPerClient < 0) throw new ArgumentException("RateLimitPerClient must be >= 0 (0 = unlimited).");
        if (MaxListPageSize < 1) throw new ArgumentException("MaxListPageSize must be at least 1.");
        ValidateClientAuth();
        if (RestoreFrom is not null && !File.Exists(RestoreFrom)) throw new ArgumentException($"RestoreFrom: backup archive '{RestoreFrom}' does not exist.");
        if (RestoreFrom is not null && Join) throw new ArgumentException("RestoreFrom starts a new cluster: it cannot be combined with Join.");
        if (!Join)
        {
            if (InitialMembers.Count == 0) throw new ArgumentException("InitialMembers must list the cluster's masters (--members), or set --join to be added later.");
            if (InitialMembers.All(m => m.Id != NodeId)) throw new ArgumentException($"NodeId {NodeId} is not among InitialMembers ({string.Join(",", InitialMembers.Select(m => m.Id))}).");
            if (InitialMembers.Select(m => m.Id).Distinct().Count() != InitialMembers.Count) throw new ArgumentException("InitialMembers has duplicate ids.");
        }

        return this;
    }

    private void ValidateClientAuth()
    {
        if (ClientAuth == 0 || (ClientAuth.HasFlag(ClientAuthModes.Simple) && ClientAuth != ClientAuthModes.Simple))
        {
            throw new ArgumentException($"ClientAuth {ClientAuth}: simple cannot be combined with tls or jwt.");
        }

        if (GroupMappingPath is not null && !File.Exists(GroupMappingPath)) throw new ArgumentException($"GroupMappingPath (--group-mapping) '{GroupMappingPath}' does not exist.");
        if (ClientAuth.HasFlag(ClientAuthModes.Tls))
        {
            if (TlsCertificatePath is null) throw new ArgumentException("ClientAuth tls needs TLS on the client port: set TlsCertificatePath (--tls-cert).");
            if (ClientCaPath is null) throw new ArgumentException("ClientAuth tls needs the client certificate authority: set ClientCaPath (--client-ca).");
            if (!File.Exists(ClientCaPath)) throw new ArgumentException($"ClientCaPath (--client-ca) '{ClientCaPath}' does not exist.");
        }

        if (ClientAuth.HasFlag(ClientAuthModes.Jwt))
        {
            if ((JwtKeyFile is null) == (JwtJwksFile is null)) throw new ArgumentException("ClientAuth jwt needs exactly one of JwtKeyFile (--jwt-key-file) and JwtJwksFile (--jwt-jwks-file).");
            if (JwtKeyFile is not null && !File.Exists(JwtKeyFile)) throw new ArgumentException($"JwtKeyFile (--jwt-key-file) '{JwtKeyFile}' does not exist.");
            if (JwtJwksFile is not null && !File.Exists(JwtJwksFile)) throw new ArgumentException($"JwtJwksFile (--jwt-jwks-file) '{JwtJwksFile}' does not exist.");
            if (string.IsNullOrWhiteSpace(JwtUserClaim)) throw new ArgumentException("JwtUserClaim (--jwt-user-claim) must not be empty.");
            if (string.IsNullOrWhiteSpace(JwtGroupsClaim)) throw new ArgumentException("JwtGroupsClaim (--jwt-groups-claim) must not be empty.");
        }
    }
}
