using System.Net.Security;

namespace HaMaster.Client;

/// <summary>
/// Settings of a <see cref="HaMasterClient"/>. Immutable; <see cref="Validate"/> is called by the
/// client's constructor, so an instance that reaches a client is known to be consistent.
/// </summary>
public sealed record HaMasterClientOptions
{
    /// <summary>
    /// Client addresses ("host:port") of some masters. Any one that answers is enough: the
    /// client learns the others and the leader from it. Required, at least one.
    /// </summary>
    public IReadOnlyList<string> Seeds { get; init; } = [];

    /// <summary>Deadline of one attempt of one call (sent as <c>grpc-timeout</c>). Default 10 s.</summary>
    public TimeSpan CallTimeout { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>
    /// Deadline of one attempt of a membership, leadership or snapshot call (AddMaster waits for
    /// the new master to catch up and be promoted). Default 2 min; the retry budget of such a call
    /// is at least this long.
    /// </summary>
    public TimeSpan AdminCallTimeout { get; init; } = TimeSpan.FromMinutes(2);

    /// <summary>
    /// Wall-clock budget of one logical call including every retry and backoff delay. Once spent,
    /// the last failure is surfaced. Default 30 s; an attempt's deadline is clipped to what is
    /// left of the budget.
    /// </summary>
    public TimeSpan TotalRetryBudget { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>Maximum attempts of one logical call (first try included). Default 12; 1 = no retries.</summary>
    public int MaxAttempts { get; init; } = 12;

    /// <summary>First backoff delay; doubles per retry (with jitter) up to <see cref="MaxBackoff"/>. Default 50 ms.</summary>
    public TimeSpan InitialBackoff { get; init; } = TimeSpan.FromMilliseconds(50);

    /// <summary>
    /// Cap of one backoff delay. Default 1 s: an election on default timeouts takes about a second,
    /// so a longer cap would mostly add to the write-unavailability window after a leader crash.
    /// </summary>
    public TimeSpan MaxBackoff { get; init; } = TimeSpan.FromSeconds(1);

    /// <summary>Timeout of one leader-discovery probe (<c>GetClusterInfo</c> to one master). Default 3 s.</summary>
    public TimeSpan DiscoveryTimeout { get; init; } = TimeSpan.FromSeconds(3);

    /// <summary>Caller identity sent as <c>hamaster-user</c>; null = none (the master's default user).</summary>
    public string? User { get; init; }

    /// <summary>Caller groups sent comma-separated as <c>hamaster-groups</c>; empty = none.</summary>
    public IReadOnlyList<string> Groups { get; init; } = [];

    /// <summary>
    /// The cluster's shared secret, sent as <c>hamaster-cluster-secret</c> on ClusterAdmin calls
    /// (masters started with a secret refuse membership, leadership and snapshot calls without
    /// it). Null (default) = none. Never sent on file-system or worker calls.
    /// </summary>
    public string? ClusterSecret { get; init; }

    /// <summary>
    /// A JWT for masters started with <c>--auth jwt</c>: sent as <c>authorization: Bearer &lt;token&gt;</c>
    /// on every call; the master takes the user and groups from it (not from <see cref="User"/>).
    /// Null (default) = none. Use it over TLS (<see cref="Tls"/>): a token seen is a token usable.
    /// </summary>
    public string? BearerToken { get; init; }

    /// <summary>
    /// Exactly-once session id. Null (default) = a random id per client instance. Give a fixed id
    /// only to one live client at a time: two clients sharing it would collide on sequence numbers.
    /// </summary>
    public string? ClientId { get; init; }

    /// <summary>
    /// When false, every call goes to <c>Seeds[0]</c> only: no discovery, no redirects (the
    /// <c>hamaster-leader</c> trailer is ignored), no rotation. For tests and benchmarks that
    /// measure one master. Default true.
    /// </summary>
    public bool FollowLeader { get; init; } = true;

    /// <summary>
    /// TLS for masters started with <c>--tls-cert</c>: non-null = connect with https:// using these
    /// settings (e.g. <see cref="ClientTls.TrustingAuthority(string)"/>, plus a client certificate
    /// for <c>--auth tls</c> with <see cref="ClientTls.WithClientCertificate"/>); null (default) =
    /// cleartext HTTP/2. Applies to every master of the cluster.
    /// </summary>
    public SslClientAuthenticationOptions? Tls { get; init; }

    /// <summary>When false ("raw" mode), each call is made exactly once and any failure surfaces. Default true.</summary>
    public bool Retry { get; init; } = true;

    /// <summary>Throws <see cref="ArgumentException"/> describing the first invalid setting.</summary>
    public HaMasterClientOptions Validate()
    {
        if (Seeds is null || Seeds.Count == 0)
        {
            throw new ArgumentException("At least one seed address (host:port) is required.", nameof(Seeds));
        }

        foreach (var seed in Seeds)
        {
            _ = MasterEndpoint.Normalize(seed);
        }

        RequirePositive(CallTimeout, nameof(CallTimeout));
        RequirePositive(TotalRetryBudget, nameof(TotalRetryBudget));
        RequirePositive(AdminCallTimeout, nameof(AdminCallTimeout));
        RequirePositive(InitialBackoff, nameof(InitialBackoff));
        RequirePositive(DiscoveryTimeout, nameof(DiscoveryTimeout));
        if (MaxBackoff < InitialBackoff)
        {
            throw new ArgumentException($"MaxBackoff ({MaxBackoff}) must be at least InitialBackoff ({InitialBackoff}).", nameof(MaxBackoff));
        }

        if (MaxAttempts < 1)
        {
            throw new ArgumentException($"MaxAttempts must be at least 1 (got {MaxAttempts}).", nameof(MaxAttempts));
        }

        if (User is not null && !IsHeaderSafe(User))
        {
            throw new ArgumentException("User must be printable ASCII without commas.", nameof(User));
        }

        foreach (var group in Groups ?? [])
        {
            if (string.IsNullOrEmpty(group) || !IsHeaderSafe(group))
            {
                throw new ArgumentException($"Group '{group}' must be non-empty printable ASCII without commas.", nameof(Groups));
            }
        }

        if (ClusterSecret is not null && (ClusterSecret.Length == 0 || !ClusterSecret.All(c => c is >= (char)0x20 and <= (char)0x7E)))
        {
            throw new ArgumentException("ClusterSecret must be non-empty printable ASCII.", nameof(ClusterSecret));
        }

        if (BearerToken is not null && (BearerToken.Length == 0 || !BearerToken.All(c => c is > (char)0x20 and <= (char)0x7E)))
        {
            throw new ArgumentException("BearerToken must be non-empty printable ASCII without spaces (a JWT).", nameof(BearerToken));
        }

        if (ClientId is not null && (ClientId.Length == 0 || ClientId.Length > 128))
        {
            throw new ArgumentException("ClientId must have 1 to 128 characters.", nameof(ClientId));
        }

        return this;
    }

    private static void RequirePositive(TimeSpan value, string name)
    {
        if (value <= TimeSpan.Zero)
        {
            throw new ArgumentException($"{name} must be positive (got {value}).", name);
        }
    }

    private static bool IsHeaderSafe(string value)
    {
        foreach (var c in value)
        {
            if (c < 0x20 || c > 0x7E || c == ',')
            {
                return false;
            }
        }

        return true;
    }
}
