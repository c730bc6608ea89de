using System.Diagnostics;
using System.Runtime.CompilerServices;
using Google.Protobuf;
using Grpc.Core;
using HaMaster.Protos.V1;
using Polly;
using Polly.Retry;

namespace HaMaster.Client;

/// <summary>Starts one unary call of a generated client of one master.</summary>
internal delegate AsyncUnaryCall<TResp> UnaryStub<TReq, TResp>(MasterChannel master, TReq request, CallOptions options);

/// <summary>
/// Where each attempt of a logical call goes and when it is tried again: a pinned master, the
/// cached leader, or whoever discovery finds; what each answer teaches (leader trailers,
/// members); retries with exponential backoff and jitter (Polly) within the call's budget, a
/// redirect to a named leader followed at once. Thread-safe: shared by every call of a client.
/// </summary>
internal sealed class CallRouter
{
    private const string GetClusterInfoMethod = HaMasterClient.AdminService + "GetClusterInfo";
    private static readonly ResiliencePropertyKey<CallState> StateKey = new("hamaster.call");
    private static readonly UnaryStub<GetClusterInfoRequest, GetClusterInfoResponse> GetClusterInfoStub = static (m, r, o) => m.Admin.GetClusterInfoAsync(r, o);

    private readonly MasterRoster _roster;
    private readonly string? _pinned;
    private readonly ResiliencePipeline _pipeline;
    private Task<DiscoveryOutcome>? _discovery;

    /// <summary>A router over <paramref name="roster"/> (shared by a client and its pinned views).</summary>
    /// <param name="options">Validated options: timeouts, retry budget, identity headers.</param>
    /// <param name="roster">The known masters, their channels and the cached leader.</param>
    /// <param name="pinned">The one master every attempt goes to (normalized), or null to follow the leader.</param>
    public CallRouter(HaMasterClientOptions options, MasterRoster roster, string? pinned)
    {
        Options = options;
        _roster = roster;
        _pinned = pinned;
        _pipeline = BuildPipeline(options);
    }

    public HaMasterClientOptions Options { get; }

    /// <summary>
    /// Asks the known masters (in turn, one round, no backoff) for the cluster membership, caches
    /// the leader and learns every member's address.
    /// </summary>
    /// <exception cref="HaMasterUnavailableException">No master answers.</exception>
    public async ValueTask<GetClusterInfoResponse> DiscoverAsync(CancellationToken cancellationToken)
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
    public async ValueTask<TResp> InvokeAsync<TReq, TResp>(string method, TReq request, UnaryStub<TReq, TResp> stub, CallKind kind, CancellationToken cancellationToken)
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
                static (ctx, args) => args.Router.AttemptAsync(args.Method, args.Request, args.Stub, args.State, ctx.CancellationToken),
                context,
                (Router: this, Method: method, Request: request, Stub: stub, State: state)).ConfigureAwait(false);
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

    private async ValueTask<TResp> AttemptAsync<TReq, TResp>(string method, TReq request, UnaryStub<TReq, TResp> stub, CallState state, CancellationToken cancellationToken)
        where TReq : IMessage<TReq>
        where TResp : IMessage<TResp>
    {
        state.Attempts++;
        state.Redirected = false;
        var remaining = state.Remaining;
        if (state.Attempts > 1 && remaining <= TimeSpan.Zero && state.LastError is not null)
        {
            // The budget ran out during the backoff: surface the real failure, not a synthetic deadline.
            throw state.LastError;
        }

        string target;
        try
        {
            target = await PickTargetAsync(state, cancellationToken).ConfigureAwait(false);
        }
        catch (RpcException ex)
        {
            state.LastError = ex;
            throw;
        }

        state.LastMaster = target;
        var callTimeout = state.Kind == CallKind.Admin ? Options.AdminCallTimeout : Options.CallTimeout;
        var timeout = callTimeout < remaining || remaining <= TimeSpan.Zero ? callTimeout : remaining;
        try
        {
            var response = await CallAsync(target, method, request, stub, timeout, cancellationToken).ConfigureAwait(false);
            ObserveAnswer(target, response.Trailers);
            return response.Message;
        }
        catch (RpcException ex)
        {
            state.LastError = ex;
            state.Redirected = ObserveFailure(target, ex);
            throw;
        }
    }

    /// <summary>
    /// One unary call to one master through its generated client. Grpc.Net.Client reports every
    /// failure, transport ones included (UNAVAILABLE, DEADLINE_EXCEEDED), as <see cref="RpcException"/>.
    /// </summary>
    private async ValueTask<(TResp Message, Metadata Trailers)> CallAsync<TReq, TResp>(string target, string method, TReq request, UnaryStub<TReq, TResp> stub, TimeSpan timeout, CancellationToken cancellationToken)
        where TReq : IMessage<TReq>
        where TResp : IMessage<TResp>
    {
        var options = new CallOptions(BuildHeaders(method), DateTime.UtcNow + timeout, cancellationToken);
        using var call = stub(_roster.Channel(target), request, options);
        var message = await call.ResponseAsync.ConfigureAwait(false);
        return (message, call.GetTrailers());
    }

    private Metadata BuildHeaders(string method)
    {
        var headers = new Metadata();
        if (Options.ClusterSecret is { } secret && method.StartsWith(HaMasterClient.AdminService, StringComparison.Ordinal))
        {
            headers.Add(HaMasterClient.ClusterSecretMetadataKey, secret);
        }

        if (Options.BearerToken is { } token)
        {
            headers.Add(HaMasterClient.AuthorizationMetadataKey, "Bearer " + token);
        }

        if (Options.User is { } user)
        {
            headers.Add(HaMasterClient.UserMetadataKey, user);
        }

        if (Options.Groups.Count > 0)
        {
            headers.Add(HaMasterClient.GroupsMetadataKey, string.Join(',', Options.Groups));
        }

        return headers;
    }

    private async ValueTask<string> PickTargetAsync(CallState state, CancellationToken cancellationToken)
    {
        if (_pinned is not null)
        {
            return _pinned;
        }

        if (!Options.FollowLeader)
        {
            return _roster.Known[0];
        }

        if (_roster.Leader is { } leader)
        {
            return leader;
        }

        _ = await DiscoverFromAnyAsync(state, cancellationToken).ConfigureAwait(false);
        // No leader right now (election): send it to the master that answered; it will say
        // UNAVAILABLE (retried with backoff) or forward the call once a leader exists.
        return _roster.Leader ?? state.LastMaster ?? _roster.NextCandidate();
    }

    /// <summary>
    /// One attempt of the server-streaming Backup call to the leader (or the pinned master), bounded
    /// by <see cref="HaMasterClientOptions.AdminCallTimeout"/>; it bypasses the unary retry pipeline
    /// (a partial backup is useless, so the caller starts over).
    /// </summary>
    public async IAsyncEnumerable<BackupChunk> StreamBackupAsync([EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        const string method = HaMasterClient.AdminService + "Backup";
        var state = new CallState(CallKind.Admin, Stopwatch.GetTimestamp() + ToTicks(Options.AdminCallTimeout));
        string target;
        try
        {
            target = await PickTargetAsync(state, cancellationToken).ConfigureAwait(false);
        }
        catch (RpcException ex)
        {
            throw HaMasterException.Create(ex.StatusCode, ex.Status.Detail, state.LastMaster, ex);
        }

        var options = new CallOptions(BuildHeaders(method), DateTime.UtcNow + Options.AdminCallTimeout, cancellationToken);
        using var call = _roster.Channel(target).Admin.Backup(new BackupRequest(), options);
        while (true)
        {
            bool more;
            try
            {
                more = await call.ResponseStream.MoveNext(cancellationToken).ConfigureAwait(false);
            }
            catch (RpcException ex) when (!cancellationToken.IsCancellationRequested)
            {
                throw HaMasterException.Create(ex.StatusCode, ex.Status.Detail, target, ex);
            }

            if (!more)
            {
                yield break;
            }

            yield return call.ResponseStream.Current;
        }
    }

    /// <summary>
    /// Finds the leader through the known masters. Concurrent callers share one discovery in
    /// flight (after a leader crash hundreds of calls fail at once; they must not each probe every
    /// master). The shared probe ignores any one caller's cancellation; each probe is bounded by
    /// <see cref="HaMasterClientOptions.DiscoveryTimeout"/>, so it ends by itself.
    /// </summary>
    private async ValueTask<GetClusterInfoResponse> DiscoverFromAnyAsync(CallState state, CancellationToken cancellationToken)
    {
        var current = Volatile.Read(ref _discovery);
        if (current is null || current.IsCompleted)
        {
            var fresh = new TaskCompletionSource<DiscoveryOutcome>(TaskCreationOptions.RunContinuationsAsynchronously);
            var seen = Interlocked.CompareExchange(ref _discovery, fresh.Task, current);
            if (ReferenceEquals(seen, current))
            {
                _ = RunDiscoveryAsync(fresh);
                current = fresh.Task;
            }
            else
            {
                current = seen!;
            }
        }

        var outcome = await current.WaitAsync(cancellationToken).ConfigureAwait(false);
        state.LastMaster = outcome.AnsweredBy;
        if (outcome.Cluster is null)
        {
            // A fresh exception per caller: the shared one must not be rethrown concurrently.
            var error = outcome.Error!;
            throw new RpcException(error.Status, error.Trailers);
        }

        return outcome.Cluster;
    }

    private async Task RunDiscoveryAsync(TaskCompletionSource<DiscoveryOutcome> completion)
    {
        RpcException? last = null;
        string? lastCandidate = null;
        var count = _roster.Known.Count;
        var timeout = Options.DiscoveryTimeout < Options.CallTimeout ? Options.DiscoveryTimeout : Options.CallTimeout;
        for (var i = 0; i < count; i++)
        {
            var candidate = _roster.NextCandidate();
            lastCandidate = candidate;
            try
            {
                var response = await CallAsync(candidate, GetClusterInfoMethod, new GetClusterInfoRequest(), GetClusterInfoStub, timeout, CancellationToken.None).ConfigureAwait(false);
                ObserveAnswer(candidate, response.Trailers);
                var cluster = response.Message;
                _roster.Learn(cluster.Members.Select(m => m.ClientAddress));
                if (!string.IsNullOrEmpty(cluster.LeaderAddress))
                {
                    _roster.ObserveLeader(cluster.LeaderAddress);
                }

                completion.SetResult(new DiscoveryOutcome(cluster, null, candidate));
                return;
            }
            catch (RpcException ex)
            {
                last = ex;
            }
            catch (Exception ex)
            {
                last = new RpcException(new Status(StatusCode.Unavailable, $"discovery through {candidate} failed: {ex.Message}", ex));
            }
        }

        completion.SetResult(new DiscoveryOutcome(null, last ?? new RpcException(new Status(StatusCode.Unavailable, "no master address known")), lastCandidate));
    }

    /// <summary>What one discovery round found: the cluster as a master described it, or the last failure.</summary>
    private sealed record DiscoveryOutcome(GetClusterInfoResponse? Cluster, RpcException? Error, string? AnsweredBy);

    private void ObserveAnswer(string target, Metadata trailers)
    {
        if (_pinned is not null || !Options.FollowLeader)
        {
            return;
        }

        var hint = trailers.GetValue(HaMasterClient.LeaderMetadataKey);
        if (!_roster.ObserveLeader(hint) && _roster.Leader is null)
        {
            // The master answered but named no leader; keep using it rather than rediscovering each call.
            _roster.ObserveLeader(target);
        }
    }

    /// <summary>Learns from a failed attempt; returns true when it redirected us to a different master.</summary>
    private bool ObserveFailure(string target, RpcException error)
    {
        if (_pinned is not null || !Options.FollowLeader)
        {
            return false;
        }

        var hint = error.Trailers.GetValue(HaMasterClient.LeaderMetadataKey);
        if (MasterEndpoint.TryNormalize(hint, out var leader) && !string.Equals(leader, target, StringComparison.OrdinalIgnoreCase))
        {
            _roster.ObserveLeader(leader);
            return true;
        }

        if (error.StatusCode is StatusCode.Unavailable or StatusCode.DeadlineExceeded)
        {
            // Down, partitioned or leaderless: rediscover through the other masters next attempt.
            _roster.ForgetLeader(target);
        }

        return false;
    }

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
