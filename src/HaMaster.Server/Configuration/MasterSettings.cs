using System.Globalization;
using HaMaster.Metadata;

namespace HaMaster.Server.Configuration;

/// <summary>
/// One configuration setting of a master, declared once: its key (appsettings.json section
/// "HaMaster", <c>HAMASTER_&lt;Key&gt;</c> variables, <c>--Key value</c>), its short flag, the default
/// and help text shown by <c>--help</c> (README's configuration table lists every key; a test
/// checks it), and how a text value sets it on <see cref="MasterOptions"/>.
/// </summary>
/// <param name="Key">The setting's name in every source.</param>
/// <param name="Flag">The short command-line flag (e.g. <c>--id</c>), or null.</param>
/// <param name="Default">The default as shown to operators.</param>
/// <param name="Help">What it does, one line.</param>
/// <param name="Apply">Parses a value and returns the options with it set; throws <see cref="ArgumentException"/> naming the key.</param>
/// <param name="IsSwitch">A flag that may stand alone (<c>--join</c> means <c>--join true</c>).</param>
internal sealed record MasterSetting(string Key, string? Flag, string Default, string Help, Func<MasterOptions, string, MasterOptions> Apply, bool IsSwitch = false);

/// <summary>Every setting a master reads, in the order <c>--help</c> lists them.</summary>
internal static class MasterSettings
{
    public static IReadOnlyList<MasterSetting> All { get; } =
    [
        new("NodeId", "--id", "none", "this master's id, non-zero, unique", (o, v) => o with { NodeId = ULong(v, "NodeId") }),
        new("InitialMembers", "--members", "none", "bootstrap voters: 1=clientHost:port/peerHost:port[/webHost:port],2=...", (o, v) => o with { InitialMembers = MasterEndpoint.ParseList(v) }),
        new("Join", "--join", "false", "start empty and wait to be added (cluster add)", (o, v) => o with { Join = Bool(v, "Join") }, IsSwitch: true),
        new("DataDirectory", "--data-dir", "data", "Raft log, hard state, snapshots, metastore", (o, v) => o with { DataDirectory = v }),
        new("RestoreFrom", "--restore-from", "none", "start a new cluster from a backup archive", (o, v) => o with { RestoreFrom = NonEmpty(v) }),
        new("BindAddress", "--bind", "127.0.0.1", "address of every port (a non-loopback one needs a cluster secret or mutual TLS)", (o, v) => o with { BindAddress = v }),
        new("ClientPort", "--client-port", "19200", "client API port (FileSystemMaster, BlockMaster, ClusterAdmin)", (o, v) => o with { ClientPort = Int(v, "ClientPort") }),
        new("PeerPort", "--peer-port", "19300", "Raft peer port", (o, v) => o with { PeerPort = Int(v, "PeerPort") }),
        new("WebPort", "--web-port", "19400", "status page, /metrics, /healthz, /readyz (-1 = off)", (o, v) => o with { WebPort = Int(v, "WebPort") }),
        new("AdvertisedClientAddress", null, "bind:port", "client address others use (containers, NAT)", (o, v) => o with { AdvertisedClientAddress = NonEmpty(v) }),
        new("AdvertisedPeerAddress", null, "bind:port", "peer address others use (containers, NAT)", (o, v) => o with { AdvertisedPeerAddress = NonEmpty(v) }),
        new("TickIntervalMs", "--tick-ms", "100", "Raft clock tick in ms", (o, v) => o with { TickInterval = Millis(v, "TickIntervalMs") }),
        new("ElectionTicks", "--election-ticks", "10", "ticks before a follower campaigns (randomized up to twice that)", (o, v) => o with { ElectionTicks = Int(v, "ElectionTicks") }),
        new("HeartbeatTicks", null, "1", "ticks between leader heartbeats", (o, v) => o with { HeartbeatTicks = Int(v, "HeartbeatTicks") }),
        new("SnapshotEveryEntries", "--snapshot-every", "100000", "entries between automatic snapshots", (o, v) => o with { SnapshotEveryEntries = Long(v, "SnapshotEveryEntries") }),
        new("LogEntriesKeptBehindSnapshot", "--log-keep", "5000", "log entries kept behind a snapshot for slightly lagging followers", (o, v) => o with { LogEntriesKeptBehindSnapshot = Long(v, "LogEntriesKeptBehindSnapshot") }),
        new("SnapshotsKept", null, "2", "snapshots kept on disk", (o, v) => o with { SnapshotsKept = Int(v, "SnapshotsKept") }),
        new("LogSegmentBytes", null, "67108864", "size of one Raft log segment file", (o, v) => o with { LogSegmentBytes = Long(v, "LogSegmentBytes") }),
        new("Fsync", "--fsync", "true", "fsync before acknowledging (turn off only for tests)", (o, v) => o with { Fsync = Bool(v, "Fsync") }),
        new("Metastore", "--metastore", "Rocks", "Rocks or Heap", (o, v) => o with { Metastore = Metastore(v) }),
        new("InodeCacheMaxEntries", "--inode-cache", "200000", "inode cache in front of RocksDB (0 = none)", (o, v) => o with { InodeCacheMaxEntries = Int(v, "InodeCacheMaxEntries") }),
        new("RocksBlockCacheBytes", null, "134217728", "RocksDB block cache", (o, v) => o with { RocksBlockCacheBytes = Long(v, "RocksBlockCacheBytes") }),
        new("DefaultBlockSizeBytes", null, "67108864", "block size of files created with block size 0", (o, v) => o with { DefaultBlockSizeBytes = Long(v, "DefaultBlockSizeBytes") }),
        new("WorkerTimeoutMs", "--worker-timeout-ms", "30000", "a worker silent this long is declared lost", (o, v) => o with { WorkerTimeout = Millis(v, "WorkerTimeoutMs") }),
        new("WorkerGracePeriodMs", null, "= WorkerTimeoutMs", "a new leader waits this long before declaring workers lost", (o, v) => o with { WorkerGracePeriod = Millis(v, "WorkerGracePeriodMs") }),
        new("TtlCheckIntervalMs", "--ttl-check-ms", "1000", "time between rounds of the leader's TTL checker", (o, v) => o with { TtlCheckInterval = Millis(v, "TtlCheckIntervalMs") }),
        new("TtlMaxInodesPerRound", null, "1000", "most expiry-index entries one TTL round reads and proposes", (o, v) => o with { TtlMaxInodesPerRound = Int(v, "TtlMaxInodesPerRound") }),
        new("DefaultCallTimeoutMs", null, "30000", "deadline of a client call that sets none", (o, v) => o with { DefaultCallTimeout = Millis(v, "DefaultCallTimeoutMs") }),
        new("MaxMessageBytes", null, "8388608", "largest request or response message", (o, v) => o with { MaxMessageBytes = Int(v, "MaxMessageBytes") }),
        new("MaxListPageSize", null, "10000", "largest listing page", (o, v) => o with { MaxListPageSize = Int(v, "MaxListPageSize") }),
        new("ClusterSecret", "--cluster-secret", "none", "shared secret of the masters (>= 16 bytes; visible in ps: prefer the file)", (o, v) => o with { ClusterSecret = NonEmpty(v) }),
        new("ClusterSecretFile", "--cluster-secret-file", "none", "file holding the cluster secret", (o, v) => o with { ClusterSecretFile = NonEmpty(v) }),
        new("ClusterId", "--cluster-id", "derived from --members", "the cluster's id, checked on every peer call; stored in DATA/cluster.id", (o, v) => o with { ClusterId = NonEmpty(v?.Trim()) }),
        new("OpenStatusApi", "--open-status-api", "false", "serve /api/status and /api/cluster to loopback callers without a credential", (o, v) => o with { OpenStatusApi = Bool(v, "OpenStatusApi") }, IsSwitch: true),
        new("TlsCertificatePath", "--tls-cert", "none", "TLS certificate (PKCS#12) of the client and peer ports", (o, v) => o with { TlsCertificatePath = NonEmpty(v) }),
        new("TlsCertificatePassword", "--tls-cert-password", "none", "password of that certificate", (o, v) => o with { TlsCertificatePassword = v }),
        new("TlsTrustedCertificatePath", "--tls-trusted-cert", "none", "authority that signed the peers' certificates (mutual TLS between masters)", (o, v) => o with { TlsTrustedCertificatePath = NonEmpty(v) }),
        new("ClientAuth", "--auth", "simple", "how callers authenticate: simple (headers, insecure), tls, jwt or tls,jwt", (o, v) => o with { ClientAuth = ClientAuthModesText.Parse(v) }),
        new("ClientCaPath", "--client-ca", "none", "PEM CA(s) client certificates must chain to", (o, v) => o with { ClientCaPath = NonEmpty(v) }),
        new("GroupMappingPath", "--group-mapping", "none", "groups of authenticated users", (o, v) => o with { GroupMappingPath = NonEmpty(v) }),
        new("JwtKeyFile", "--jwt-key-file", "none", "HS256 secret or PEM public key bearer tokens are signed with", (o, v) => o with { JwtKeyFile = NonEmpty(v) }),
        new("JwtJwksFile", "--jwt-jwks-file", "none", "JWKS file of the token signing keys", (o, v) => o with { JwtJwksFile = NonEmpty(v) }),
        new("JwtIssuer", "--jwt-issuer", "none", "required token issuer", (o, v) => o with { JwtIssuer = NonEmpty(v) }),
        new("JwtAudience", "--jwt-audience", "none", "required token audience", (o, v) => o with { JwtAudience = NonEmpty(v) }),
        new("JwtUserClaim", "--jwt-user-claim", "sub", "claim that names the user", (o, v) => o with { JwtUserClaim = v }),
        new("JwtGroupsClaim", "--jwt-groups-claim", "groups", "claim that lists the groups", (o, v) => o with { JwtGroupsClaim = v }),
        new("EnforcePermissions", "--enforce-permissions", "false", "POSIX-style permission checks of every operation", (o, v) => o with { EnforcePermissions = Bool(v, "EnforcePermissions") }, IsSwitch: true),
        new("SuperUser", null, "root", "user that bypasses permission checks", (o, v) => o with { SuperUser = v }),
        new("SuperGroup", null, "supergroup", "group whose members bypass permission checks", (o, v) => o with { SuperGroup = v }),
        new("RateLimitPerClient", "--rate-limit", "0 (off)", "requests/s per caller; excess gets RESOURCE_EXHAUSTED", (o, v) => o with { RateLimitPerClient = Double(v, "RateLimitPerClient") }),
        new("RateLimitBurst", null, "2 s worth", "burst size of the per-caller rate limit", (o, v) => o with { RateLimitBurst = Double(v, "RateLimitBurst") }),
        new("MaxCallsInProgress", "--max-calls-in-progress", "1000", "client calls in progress per master (fair share per caller)", (o, v) => o with { ConnectionLimits = o.ConnectionLimits with { MaxCallsInProgress = Int(v, "MaxCallsInProgress") } }),
        new("MaxBufferedRequestBytes", "--max-buffered-request-bytes", "67108864", "request bytes buffered per master", (o, v) => o with { ConnectionLimits = o.ConnectionLimits with { MaxBufferedRequestBytes = Long(v, "MaxBufferedRequestBytes") } }),
        new("MaxBufferedRequestBytesPerConnection", null, "16777216", "request bytes buffered per connection", (o, v) => o with { ConnectionLimits = o.ConnectionLimits with { MaxBufferedRequestBytesPerConnection = Long(v, "MaxBufferedRequestBytesPerConnection") } }),
        new("MaxStreamsPerClientConnection", null, "100", "concurrent calls per client connection", (o, v) => o with { ConnectionLimits = o.ConnectionLimits with { MaxStreamsPerClientConnection = Int(v, "MaxStreamsPerClientConnection") } }),
        new("MaxStreamResetsPerSecond", null, "200", "cancelled calls per second that close a client connection", (o, v) => o with { ConnectionLimits = o.ConnectionLimits with { MaxStreamResetsPerSecond = Int(v, "MaxStreamResetsPerSecond") } }),
        new("RequestBodyTimeoutMs", null, "30000", "time a client call has to deliver its request", (o, v) => o with { ConnectionLimits = o.ConnectionLimits with { RequestBodyTimeout = Millis(v, "RequestBodyTimeoutMs") } }),
    ];

    private static string? NonEmpty(string? v) => v is { Length: > 0 } ? v : null;

    private static TimeSpan Millis(string v, string key) => TimeSpan.FromMilliseconds(Int(v, key));

    private static int Int(string v, string key) =>
        int.TryParse(v, NumberStyles.Integer, CultureInfo.InvariantCulture, out var x) ? x : throw new ArgumentException($"{key} '{v}' is not an integer");

    private static long Long(string v, string key) =>
        long.TryParse(v, NumberStyles.Integer, CultureInfo.InvariantCulture, out var x) ? x : throw new ArgumentException($"{key} '{v}' is not an integer");

    private static ulong ULong(string v, string key) =>
        ulong.TryParse(v, NumberStyles.None, CultureInfo.InvariantCulture, out var x) ? x : throw new ArgumentException($"{key} '{v}' is not a non-negative integer");

    private static double Double(string v, string key) =>
        double.TryParse(v, NumberStyles.Float, CultureInfo.InvariantCulture, out var x) ? x : throw new ArgumentException($"{key} '{v}' is not a number");

    private static bool Bool(string v, string key) =>
        bool.TryParse(v, out var x) ? x : throw new ArgumentException($"{key} '{v}' must be true or false");

    private static MetastoreKind Metastore(string v) =>
        !v.Any(char.IsDigit) && Enum.TryParse<MetastoreKind>(v, ignoreCase: true, out var kind) && Enum.IsDefined(kind)
            ? kind
            : throw new ArgumentException($"Metastore '{v}' must be Rocks or Heap");
}
