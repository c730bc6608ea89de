using Google.Protobuf;
using Grpc.Core;
using HaMaster.Protos.V1;

namespace HaMaster.Client;

/// <summary>
/// The HaMaster client library: typed async methods for the FileSystemMaster, BlockMaster and
/// ClusterAdmin services. It discovers the leader from any seed, follows <c>hamaster-leader</c>
/// redirects, retries transient failures with exponential backoff and jitter (Polly), rotating
/// through the known masters, and attaches an exactly-once <see cref="ClientSession"/> to every
/// write so a retried write is applied once. Failures surface as <see cref="HaMasterException"/>.
/// Thread-safe: one instance serves any number of concurrent calls and should live as long as
/// the application (it caches one HTTP/2 channel per master).
/// </summary>
public sealed partial class HaMasterClient : IDisposable
{
    /// <summary>Trailer (and header) naming the current leader's client address.</summary>
    public const string LeaderMetadataKey = "hamaster-leader";

    /// <summary>Request header carrying the caller's user name.</summary>
    public const string UserMetadataKey = "hamaster-user";

    /// <summary>Request header carrying the caller's groups, comma-separated.</summary>
    public const string GroupsMetadataKey = "hamaster-groups";

    /// <summary>Request header carrying the bearer token (<c>Bearer &lt;JWT&gt;</c>) for masters started with <c>--auth jwt</c>.</summary>
    public const string AuthorizationMetadataKey = "authorization";

    /// <summary>Request header carrying the cluster secret on ClusterAdmin calls.</summary>
    public const string ClusterSecretMetadataKey = "hamaster-cluster-secret";

    private readonly MasterRoster _roster;
    private readonly bool _ownsRoster;
    private readonly WriteSessionSequencer _sessions;
    private readonly CallRouter _router;

    /// <summary>Creates a client; validates <paramref name="options"/>. No connection is made until the first call.</summary>
    public HaMasterClient(HaMasterClientOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        Options = options.Validate();
        _roster = new MasterRoster(options.Seeds, options.Tls);
        _ownsRoster = true;
        _sessions = new WriteSessionSequencer(options.ClientId ?? Guid.NewGuid().ToString("N"));
        _router = new CallRouter(Options, _roster, pinned: null);
    }

    private HaMasterClient(HaMasterClient parent, string address, bool raw)
    {
        Options = parent.Options with { Retry = parent.Options.Retry && !raw, FollowLeader = false };
        _roster = parent._roster;
        _ownsRoster = false;
        _sessions = parent._sessions;
        _router = new CallRouter(Options, _roster, MasterEndpoint.Normalize(address));
    }

    /// <summary>The validated options this client runs with.</summary>
    public HaMasterClientOptions Options { get; }

    /// <summary>The exactly-once session id of this client.</summary>
    public string ClientId => _sessions.ClientId;

    /// <summary>The session numbering of this client's writes (observability and tests).</summary>
    public WriteSessionSequencer Sessions => _sessions;

    /// <summary>The cached leader address, or null when not known yet.</summary>
    public string? CachedLeader => _roster.Leader;

    /// <summary>Every master address known (seeds plus learned members).</summary>
    public IReadOnlyList<string> KnownMasters => _roster.Known;

    /// <summary>
    /// A view of this client that sends every call to <paramref name="address"/> only, ignoring
    /// redirects. With <paramref name="raw"/> (default) it makes exactly one attempt per call.
    /// It shares this client's channels and session numbering; disposing it is a no-op.
    /// </summary>
    public HaMasterClient ForMaster(string address, bool raw = true) => new(this, address, raw);

    /// <summary>
    /// Asks the known masters (in turn, one round, no backoff) for the cluster membership, caches
    /// the leader and learns every member's address. Needed only to warm the cache: calls discover
    /// lazily. Throws <see cref="HaMasterUnavailableException"/> when no master answers.
    /// </summary>
    public ValueTask<GetClusterInfoResponse> DiscoverAsync(CancellationToken cancellationToken = default) => _router.DiscoverAsync(cancellationToken);

    public void Dispose()
    {
        if (_ownsRoster)
        {
            _roster.Dispose();
        }
    }

    /// <summary>One logical call, routed and retried by <see cref="CallRouter"/>.</summary>
    private ValueTask<TResp> InvokeAsync<TReq, TResp>(string method, TReq request, UnaryStub<TReq, TResp> stub, CallKind kind, CancellationToken cancellationToken)
        where TReq : IMessage<TReq>
        where TResp : IMessage<TResp> =>
        _router.InvokeAsync(method, request, stub, kind, cancellationToken);

    /// <summary>A write with exactly-once semantics: one sequence for every attempt of it.</summary>
    private async ValueTask<TResp> InvokeWriteAsync<TReq, TResp>(string method, TReq request, Action<TReq, ClientSession> attachSession, UnaryStub<TReq, TResp> stub, CancellationToken cancellationToken)
        where TReq : IMessage<TReq>
        where TResp : IMessage<TResp>
    {
        var session = _sessions.Next();
        attachSession(request, session);
        try
        {
            return await InvokeAsync(method, request, stub, CallKind.SessionWrite, cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            _sessions.Complete(session);
        }
    }
}
