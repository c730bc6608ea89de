using System.Globalization;
using HaMaster.Metadata;
using Microsoft.Extensions.Configuration;

namespace HaMaster.Server.Configuration;

/// <summary>
/// Builds <see cref="MasterOptions"/> from, in increasing precedence: <c>appsettings.json</c>
/// (section "HaMaster", in the working directory or next to the binary), environment variables
/// (<c>HAMASTER_NodeId</c>, <c>HAMASTER_DataDirectory</c>, ...) and command-line flags
/// (<c>--id 1 --data-dir d --members 1=h:p/h:p/h:p,...</c>, or any <c>--Key value</c>).
/// Unknown keys are ignored.
/// </summary>
public static class MasterConfiguration
{
    private static readonly Dictionary<string, string> Switches = new(StringComparer.Ordinal)
    {
        ["--id"] = "NodeId",
        ["--bind"] = "BindAddress",
        ["--client-port"] = "ClientPort",
        ["--peer-port"] = "PeerPort",
        ["--web-port"] = "WebPort",
        ["--data-dir"] = "DataDirectory",
        ["--members"] = "InitialMembers",
        ["--join"] = "Join",
        ["--metastore"] = "Metastore",
        ["--cluster-secret"] = "ClusterSecret",
        ["--cluster-secret-file"] = "ClusterSecretFile",
        ["--cluster-id"] = "ClusterId",
        ["--tick-ms"] = "TickIntervalMs",
        ["--election-ticks"] = "ElectionTicks",
        ["--snapshot-every"] = "SnapshotEveryEntries",
        ["--log-keep"] = "LogEntriesKeptBehindSnapshot",
        ["--worker-timeout-ms"] = "WorkerTimeoutMs",
        ["--ttl-check-ms"] = "TtlCheckIntervalMs",
        ["--inode-cache"] = "InodeCacheMaxEntries",
        ["--fsync"] = "Fsync",
        ["--restore-from"] = "RestoreFrom",
        ["--rate-limit"] = "RateLimitPerClient",
        ["--enforce-permissions"] = "EnforcePermissions",
        ["--open-status-api"] = "OpenStatusApi",
        ["--tls-cert"] = "TlsCertificatePath",
        ["--tls-cert-password"] = "TlsCertificatePassword",
        ["--tls-trusted-cert"] = "TlsTrustedCertificatePath",
        ["--auth"] = "ClientAuth",
        ["--client-ca"] = "ClientCaPath",
        ["--group-mapping"] = "GroupMappingPath",
        ["--jwt-key-file"] = "JwtKeyFile",
        ["--jwt-jwks-file"] = "JwtJwksFile",
        ["--jwt-issuer"] = "JwtIssuer",
        ["--jwt-audience"] = "JwtAudience",
        ["--jwt-user-claim"] = "JwtUserClaim",
        ["--jwt-groups-claim"] = "JwtGroupsClaim",
        ["--max-calls-in-progress"] = "MaxCallsInProgress",
        ["--max-buffered-request-bytes"] = "MaxBufferedRequestBytes",
    };

    public static MasterOptions Load(string[] args)
    {
        // "--join" alone is a flag: give it a value so the command-line provider accepts it.
        var normalized = new List<string>();
        for (var i = 0; i < args.Length; i++)
        {
            normalized.Add(args[i]);
            if ((args[i] == "--join" || args[i] == "--enforce-permissions" || args[i] == "--open-status-api") && (i + 1 == args.Length || args[i + 1].StartsWith("--", StringComparison.Ordinal))) normalized.Add("true");
        }

        // Every source maps onto the same flat keys ("NodeId", ...) so that precedence is simply
        // the order of the sources: appsettings.json < environment < command line.
        var json = new ConfigurationBuilder()
            .AddJsonFile(Path.Combine(AppContext.BaseDirectory, "appsettings.json"), optional: true)
            .AddJsonFile("appsettings.json", optional: true)
            .Build()
            .GetSection("HaMaster");
        var config = new ConfigurationBuilder()
            .AddInMemoryCollection(json.AsEnumerable(makePathsRelative: true).Where(kv => kv.Value is not null))
            .AddEnvironmentVariables("HAMASTER_")
            .AddCommandLine(normalized.ToArray(), Switches)
            .Build();
        return From(config);
    }

    private static MasterOptions From(IConfiguration config)
    {
        string? Get(string key) => config[key];
        var d = new MasterOptions();
        return new MasterOptions
        {
            NodeId = ULong(Get("NodeId"), "NodeId") ?? d.NodeId,
            BindAddress = Get("BindAddress") ?? d.BindAddress,
            ClientPort = Int(Get("ClientPort"), "ClientPort") ?? d.ClientPort,
            PeerPort = Int(Get("PeerPort"), "PeerPort") ?? d.PeerPort,
            WebPort = Int(Get("WebPort"), "WebPort") ?? d.WebPort,
            AdvertisedClientAddress = Get("AdvertisedClientAddress"),
            AdvertisedPeerAddress = Get("AdvertisedPeerAddress"),
            DataDirectory = Get("DataDirectory") ?? d.DataDirectory,
            InitialMembers = MasterEndpoint.ParseList(Get("InitialMembers")),
            Join = Bool(Get("Join"), "Join") ?? d.Join,
            TickInterval = Int(Get("TickIntervalMs"), "TickIntervalMs") is { } tick ? TimeSpan.FromMilliseconds(tick) : d.TickInterval,
            ElectionTicks = Int(Get("ElectionTicks"), "ElectionTicks") ?? d.ElectionTicks,
            HeartbeatTicks = Int(Get("HeartbeatTicks"), "HeartbeatTicks") ?? d.HeartbeatTicks,
            SnapshotEveryEntries = Long(Get("SnapshotEveryEntries"), "SnapshotEveryEntries") ?? d.SnapshotEveryEntries,
            LogEntriesKeptBehindSnapshot = Long(Get("LogEntriesKeptBehindSnapshot"), "LogEntriesKeptBehindSnapshot") ?? d.LogEntriesKeptBehindSnapshot,
            SnapshotsKept = Int(Get("SnapshotsKept"), "SnapshotsKept") ?? d.SnapshotsKept,
            Fsync = Bool(Get("Fsync"), "Fsync") ?? d.Fsync,
            Metastore = Get("Metastore") is { } m
                ? !m.Any(char.IsDigit) && Enum.TryParse<MetastoreKind>(m, ignoreCase: true, out var kind) && Enum.IsDefined(kind) ? kind : throw new ArgumentException($"Metastore '{m}' must be Rocks or Heap")
                : d.Metastore,
            InodeCacheMaxEntries = Int(Get("InodeCacheMaxEntries"), "InodeCacheMaxEntries") ?? d.InodeCacheMaxEntries,
            RocksBlockCacheBytes = Long(Get("RocksBlockCacheBytes"), "RocksBlockCacheBytes") ?? d.RocksBlockCacheBytes,
            WorkerTimeout = Int(Get("WorkerTimeoutMs"), "WorkerTimeoutMs") is { } wt ? TimeSpan.FromMilliseconds(wt) : d.WorkerTimeout,
            WorkerGracePeriod = Int(Get("WorkerGracePeriodMs"), "WorkerGracePeriodMs") is { } g ? TimeSpan.FromMilliseconds(g) : d.WorkerGracePeriod,
            TtlCheckInterval = Int(Get("TtlCheckIntervalMs"), "TtlCheckIntervalMs") is { } ttlMs ? TimeSpan.FromMilliseconds(ttlMs) : d.TtlCheckInterval,
            TtlMaxInodesPerRound = Int(Get("TtlMaxInodesPerRound"), "TtlMaxInodesPerRound") ?? d.TtlMaxInodesPerRound,
            MaxMessageBytes = Int(Get("MaxMessageBytes"), "MaxMessageBytes") ?? d.MaxMessageBytes,
            MaxListPageSize = Int(Get("MaxListPageSize"), "MaxListPageSize") ?? d.MaxListPageSize,
            ClusterSecret = Secret(Get("ClusterSecret"), Get("ClusterSecretFile")),
            ClusterSecretFile = Get("ClusterSecretFile") is { Length: > 0 } sf ? sf : null,
            ClusterId = Get("ClusterId") is { Length: > 0 } cid ? cid.Trim() : null,
            SuperUser = Get("SuperUser") ?? d.SuperUser,
            SuperGroup = Get("SuperGroup") ?? d.SuperGroup,
            EnforcePermissions = Bool(Get("EnforcePermissions"), "EnforcePermissions") ?? d.EnforcePermissions,
            OpenStatusApi = Bool(Get("OpenStatusApi"), "OpenStatusApi") ?? d.OpenStatusApi,
            RateLimitPerClient = Get("RateLimitPerClient") is { } rl
                ? double.TryParse(rl, NumberStyles.Float, CultureInfo.InvariantCulture, out var rate) ? rate : throw new ArgumentException($"RateLimitPerClient '{rl}' is not a number")
                : d.RateLimitPerClient,
            TlsCertificatePath = Get("TlsCertificatePath") is { Length: > 0 } tc ? tc : null,
            TlsCertificatePassword = Get("TlsCertificatePassword"),
            TlsTrustedCertificatePath = Get("TlsTrustedCertificatePath") is { Length: > 0 } tt ? tt : null,
            RestoreFrom = Get("RestoreFrom") is { Length: > 0 } r ? r : null,
            ClientAuth = Get("ClientAuth") is { Length: > 0 } auth ? ClientAuthModesText.Parse(auth) : d.ClientAuth,
            ClientCaPath = Get("ClientCaPath") is { Length: > 0 } ca ? ca : null,
            GroupMappingPath = Get("GroupMappingPath") is { Length: > 0 } gm ? gm : null,
            JwtKeyFile = Get("JwtKeyFile") is { Length: > 0 } jk ? jk : null,
            JwtJwksFile = Get("JwtJwksFile") is { Length: > 0 } jj ? jj : null,
            JwtIssuer = Get("JwtIssuer") is { Length: > 0 } ji ? ji : null,
            JwtAudience = Get("JwtAudience") is { Length: > 0 } ja ? ja : null,
            JwtUserClaim = Get("JwtUserClaim") ?? d.JwtUserClaim,
            JwtGroupsClaim = Get("JwtGroupsClaim") ?? d.JwtGroupsClaim,
            ConnectionLimits = d.ConnectionLimits with
            {
                MaxCallsInProgress = Int(Get("MaxCallsInProgress"), "MaxCallsInProgress") ?? d.ConnectionLimits.MaxCallsInProgress,
                MaxBufferedRequestBytes = Long(Get("MaxBufferedRequestBytes"), "MaxBufferedRequestBytes") ?? d.ConnectionLimits.MaxBufferedRequestBytes,
                MaxBufferedRequestBytesPerConnection = Long(Get("MaxBufferedRequestBytesPerConnection"), "MaxBufferedRequestBytesPerConnection") ?? d.ConnectionLimits.MaxBufferedRequestBytesPerConnection,
                MaxStreamsPerClientConnection = Int(Get("MaxStreamsPerClientConnection"), "MaxStreamsPerClientConnection") ?? d.ConnectionLimits.MaxStreamsPerClientConnection,
                MaxStreamResetsPerSecond = Int(Get("MaxStreamResetsPerSecond"), "MaxStreamResetsPerSecond") ?? d.ConnectionLimits.MaxStreamResetsPerSecond,
                RequestBodyTimeout = Int(Get("RequestBodyTimeoutMs"), "RequestBodyTimeoutMs") is { } bt ? TimeSpan.FromMilliseconds(bt) : d.ConnectionLimits.RequestBodyTimeout,
            },
        };
    }

    private static string? Secret(string? value, string? file)
    {
        var given = value is { Length: > 0 } ? value : null;
        if (file is not { Length: > 0 }) return given;
        if (given is not null) throw new ArgumentException("Set either ClusterSecret or ClusterSecretFile (--cluster-secret-file), not both.");
        return MasterOptions.ReadClusterSecretFile(file);
    }

    private static int? Int(string? v, string key) => v is null ? null
        : int.TryParse(v, NumberStyles.Integer, CultureInfo.InvariantCulture, out var x) ? x : throw new ArgumentException($"{key} '{v}' is not an integer");

    private static long? Long(string? v, string key) => v is null ? null
        : long.TryParse(v, NumberStyles.Integer, CultureInfo.InvariantCulture, out var x) ? x : throw new ArgumentException($"{key} '{v}' is not an integer");

    private static ulong? ULong(string? v, string key) => v is null ? null
        : ulong.TryParse(v, NumberStyles.None, CultureInfo.InvariantCulture, out var x) ? x : throw new ArgumentException($"{key} '{v}' is not a non-negative integer");

    private static bool? Bool(string? v, string key) => v is null ? null
        : bool.TryParse(v, out var x) ? x : throw new ArgumentException($"{key} '{v}' must be true or false");
}
