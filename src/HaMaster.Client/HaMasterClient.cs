using System.Diagnostics;
using Google.Protobuf;
using Grpc.Core;
using HaMaster.Protos.V1;
using Polly;
using Polly.Retry;

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

    private static readonly ResiliencePropertyKey<CallState> StateKey = new("hamaster.call");

    private readonly MasterRoster _roster;
    private readonly bool _ownsRoster;
    private readonly WriteSessionSequencer _sessions;
    private readonly ResiliencePipeline _pipeline;
    private readonly string? _pinned;
    private Task<DiscoveryOutcome>? _discovery;

    /// <summary>Creates a client; validates <paramref name="options"/>. No connection is made until the first call.</summary>
    public HaMasterClient(HaMasterClientOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        Options = options.Validate();
        _roster = new MasterRoster(options.Seeds, options.Tls);
        _ownsRoster = true;
        _sessions = new WriteSessionSequencer(options.ClientId ?? Guid.NewGuid().ToString("N"));
        _pipeline = BuildPipeline(options);
    }

    private HaMasterClient(HaMasterClient parent, string address, bool raw)
    {
        Options = parent.Options with { Retry = parent.Options.Retry && !raw, FollowLeader = false };
        _roster = parent._roster;
        _ownsRoster = false;
        _sessions = parent._sessions;
        _pinned = MasterEndpoint.Normalize(address);
        _pipeline = BuildPipeline(Options);
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
    public async ValueTask<GetClusterInfoResponse> DiscoverAsync(CancellationToken cancellationToken = default)
    {
        var state = new CallState(CallKind.Read, Stopwatch.GetTimestamp() + ToTicks(Options.TotalRetryBudget));
        try
        {
            return await DiscoverFromAnyAsync(state, cancellationToken).ConfigureAwait(false);
        }
        catch (RpcException ex)
        {
            throw HaMasterException.Create(ex.StatusCode, ex.Status.Detail, state.LastMaster, ex);
        }
    }

    public void Dispose()
    {
        if (_ownsRoster)
        {
            _roster.Dispose();
        }
    }

    private static ResiliencePipeline BuildPipeline(HaMasterClientOptions options)
    {
        if (!options.Retry || options.MaxAttempts <= 1)
        {
            return ResiliencePipeline.Empty;
        }

        return new ResiliencePipelineBuilder()
            .AddRetry(new RetryStrategyOptions
            {
                MaxRetryAttempts = options.MaxAttempts - 1,
                BackoffType = DelayBackoffType.Exponential,
                UseJitter = true,
                Delay = options.InitialBackoff,
                MaxDelay = options.MaxBackoff,
                ShouldHandle = static args => ValueTask.FromResult(ShouldRetry(args.Outcome.Exception, args.Context)),
                // A fresh redirect to another master is followed at once; everything else backs off.
                DelayGenerator = static args =>
                {
                    var state = args.Context.Properties.GetValue(StateKey, null!);
                    return ValueTask.FromResult<TimeSpan?>(state is { Redirected: true } ? TimeSpan.Zero : null);
                },
            })
            .Build();
    }

    private static bool ShouldRetry(Exception? exception, ResilienceContext context)
    {
        if (exception is not RpcException rpc || context.CancellationToken.IsCancellationRequested)
        {
            return false;
        }

        var state = context.Properties.GetValue(StateKey, null!);
        return state is not null && state.Kind.IsRetryable(rpc.StatusCode) && state.Remaining > TimeSpan.Zero;
    }

    /// <summary>One logical call: attempts through the retry pipeline; maps the final failure to <see cref="HaMasterException"/>.</summary>
    private async ValueTask<TResp> InvokeAsync<TReq, TResp>(string method, TReq request, UnaryStub<TReq, TResp> stub, CallKind kind, CancellationToken cancellationToken)
        where TReq : IMessage<TReq>
        where TResp : IMessage<TResp>
    {
        var budget = kind == CallKind.Admin && Options.AdminCallTimeout > Options.TotalRetryBudget ? Options.AdminCallTimeout : Options.TotalRetryBudget;
        var state = new CallState(kind, Stopwatch.GetTimestamp() + ToTicks(budget));
        var context = ResilienceContextPool.Shared.Get(cancellationToken);
        context.Properties.Set(StateKey, state);
        try
        {
            return await _pipeline.ExecuteAsync(
                static (ctx, args) => args.Client.AttemptAsync(args.Method, args.Request, args.Stub, args.State, ctx.CancellationToken),
                context,
                (Client: this, Method: method, Request: request, Stub: stub, State: state)).ConfigureAwait(false);
        }
        catch (RpcException ex) when (cancellationToken.IsCancellationRequested)
        {
            // The caller gave up: .NET's convention, not a server outcome.
            throw new OperationCanceledException($"{method} was cancelled by the caller", ex, cancellationToken);
        }
        catch (RpcException ex)
        {
            throw HaMasterException.Create(ex.StatusCode, ex.Status.Detail, state.LastMaster, ex, state.Attempts);
        }
        finally
        {
            ResilienceContextPool.Shared.Return(context);
        }
    }

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

    /// <summary>Starts one unary call of a generated client of one master.</summary>
    private delegate AsyncUnaryCall<TResp> UnaryStub<TReq, TResp>(MasterChannel master, TReq request, CallOptions options);

    private static long ToTicks(TimeSpan span) => (long)(span.TotalSeconds * Stopwatch.Frequency);

    /// <summary>Per-logical-call state shared by its attempts (read by the retry predicates). Attempts are sequential.</summary>
    private sealed class CallState(CallKind kind, long budgetEndTimestamp)
    {
        public CallKind Kind { get; } = kind;

        public int Attempts { get; set; }

        public string? LastMaster { get; set; }

        public RpcException? LastError { get; set; }

        /// <summary>The last failure named a different leader: the next attempt goes there without delay.</summary>
        public bool Redirected { get; set; }

        public TimeSpan Remaining => Stopwatch.GetElapsedTime(Stopwatch.GetTimestamp(), budgetEndTimestamp) is var left && left > TimeSpan.Zero ? left : TimeSpan.Zero;
    }
}
