using Google.Protobuf;
using Grpc.Core;
using HaMaster.Protos.V1;
using HaMaster.Server.Peers;
using HaMaster.Server.Raft;

namespace HaMaster.Server.Services;

/// <summary>
/// Routes calls that only the leader can serve (writes, worker heartbeats, membership): on
/// the leader they run locally; on a follower they are forwarded in one hop to the leader
/// over the peer API (on the follower's <c>RaftPeer/ForwardStream</c> to the leader,
/// <see cref="ForwardStreams"/>, so network partitions apply to them too) and the leader's
/// answer or error is passed back unchanged. With no leader the answer is
/// UNAVAILABLE with a clear message, and the client retries.
/// </summary>
internal sealed class ForwardedCalls
{
    private readonly Dictionary<string, Func<ByteString, Caller, CancellationToken, Task<IMessage>>> _onLeader = new(StringComparer.Ordinal);
    private readonly RaftHost _host;
    private readonly ForwardStreams _streams;
    private readonly TimeSpan _defaultTimeout;

    // Ended when this master learns of a leader other than Leader: forwards still waiting on the old one are cut short.
    private (ulong Leader, CancellationTokenSource Superseded) _leaderEpoch = (0, new CancellationTokenSource());
    private readonly Lock _epochGate = new();

    // Completed (and replaced) whenever a leader becomes known; calls that arrive during an election wait on it.
    private TaskCompletionSource _leaderKnown = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly TimeSpan _waitForLeader;

    // waitForLeader: how long a call that reaches this master during an election waits for a leader before it fails
    // with UNAVAILABLE (default zero: at once). The server passes two election timeouts.
    public ForwardedCalls(RaftHost host, ForwardStreams streams, TimeSpan defaultTimeout, TimeSpan waitForLeader = default)
    {
        _host = host;
        _streams = streams;
        _defaultTimeout = defaultTimeout;
        _waitForLeader = waitForLeader;
        _host.LeadershipChanged += OnLeadershipChanged;
    }

    /// <summary>
    /// During an election (no leader known) a leader-only call waits, bounded, for the outcome instead of failing at
    /// once: a client told "no leader" moves on to another master, and soon sits on the paused or cut-off old leader
    /// until its deadline, so writes would resume that much after the election (issue 19). Held here, the call goes to
    /// the new leader the moment one is known. Returns when a leader is known, the bound passed, or the call ended.
    /// </summary>
    private async ValueTask WaitForLeaderAsync(CancellationToken cancellationToken)
    {
        if (_waitForLeader <= TimeSpan.Zero) return;
        var started = System.Diagnostics.Stopwatch.GetTimestamp();
        for (var round = 0; round < 64; round++)
        {
            var signal = Volatile.Read(ref _leaderKnown); // before reading the state: a change in between completes it
            if (_host.Observed.LeaderId != 0) return;
            var left = _waitForLeader - System.Diagnostics.Stopwatch.GetElapsedTime(started);
            if (left <= TimeSpan.Zero) return;
            try
            {
                await signal.Task.WaitAsync(left, cancellationToken).ConfigureAwait(false);
            }
            catch (TimeoutException)
            {
                return;
            }
        }
    }

    /// <summary>
    /// A paused or cut-off leader never answers the calls forwarded to it; without this they would hold the client
    /// until its deadline, long after a successor was elected (issue 19). Once another leader is known, they end at
    /// once with UNAVAILABLE, so the client retries on the new leader. An election under way (leader 0) ends
    /// nothing: the old leader may still be alive and answer. Raised on a thread-pool thread.
    /// </summary>
    private void OnLeadershipChanged(RaftObservedState state)
    {
        if (state.LeaderId == 0) return;
        Interlocked.Exchange(ref _leaderKnown, new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously)).TrySetResult();
        CancellationTokenSource old;
        lock (_epochGate)
        {
            if (_leaderEpoch.Leader == state.LeaderId) return;
            old = _leaderEpoch.Superseded;
            _leaderEpoch = (state.LeaderId, new CancellationTokenSource());
        }

        // Not disposed: forwards may still be linking to its token (it holds no timer or wait handle).
        old.Cancel();
    }

    /// <summary>Cancelled once a leader other than <paramref name="leader"/> is known; none if this view of the leader is not current yet.</summary>
    private CancellationToken SupersededToken(ulong leader)
    {
        lock (_epochGate)
        {
            return _leaderEpoch.Leader == leader ? _leaderEpoch.Superseded.Token : CancellationToken.None;
        }
    }

    /// <summary>
    /// Registers a leader-only unary method for forwarding; the service's override of that method
    /// calls <see cref="LeaderCall{TReq,TResp}.InvokeAsync"/> on the result. Called at start-up only.
    /// </summary>
    public LeaderCall<TReq, TResp> Register<TReq, TResp>(
        string service,
        string method,
        MessageParser<TReq> requestParser,
        MessageParser<TResp> responseParser,
        Func<TReq, Caller, CancellationToken, Task<TResp>> onLeader)
        where TReq : IMessage<TReq>
        where TResp : IMessage<TResp>
    {
        var fullMethod = $"/{service}/{method}";
        var sample = requestParser.ParseFrom(ByteString.Empty);
        _onLeader[fullMethod] = async (bytes, caller, ct) =>
        {
            // The follower checked it when it received the caller's request; checked again here
            // because the leader must never propose a string the parser may have rewritten.
            if (StrictUtf8.FindInvalidField(sample.Descriptor, bytes.Span) is { } field)
            {
                throw ServerErrors.Status(StatusCode.InvalidArgument, StrictUtf8.Describe(field));
            }

            TReq request;
            try
            {
                request = requestParser.ParseFrom(bytes);
            }
            catch (InvalidProtocolBufferException e)
            {
                throw ServerErrors.Status(StatusCode.InvalidArgument, $"could not parse forwarded {typeof(TReq).Name}: {e.Message}");
            }

            var o = _host.Observed;
            if (!o.IsLeader) throw new NotLeaderException(o.LeaderId, "the forwarded call reached a master that is no longer the leader; retry");
            return await onLeader(request, caller, ct).ConfigureAwait(false);
        };
        return new LeaderCall<TReq, TResp>(this, fullMethod, responseParser, onLeader);
    }

    /// <summary>One leader-only method: runs here on the leader, is forwarded from a follower.</summary>
    internal sealed class LeaderCall<TReq, TResp>(ForwardedCalls owner, string fullMethod, MessageParser<TResp> responseParser, Func<TReq, Caller, CancellationToken, Task<TResp>> onLeader)
        where TReq : IMessage<TReq>
        where TResp : IMessage<TResp>
    {
        public async Task<TResp> InvokeAsync(TReq request, ServerCallContext context)
        {
            var caller = CallerIdentity.From(context);
            using var timeout = CallDeadline.Link(context, owner._defaultTimeout);
            if (owner._host.Observed.LeaderId == 0) await owner.WaitForLeaderAsync(timeout.Token).ConfigureAwait(false);
            if (owner._host.Observed.IsLeader) return await onLeader(request, caller, timeout.Token).ConfigureAwait(false);
            return await owner.ForwardAsync(fullMethod, request, responseParser, caller, context, timeout.Token).ConfigureAwait(false);
        }
    }

    private async Task<TResp> ForwardAsync<TReq, TResp>(string fullMethod, TReq request, MessageParser<TResp> responseParser, Caller caller, ServerCallContext context, CancellationToken cancellationToken)
        where TReq : IMessage<TReq>
        where TResp : IMessage<TResp>
    {
        var leader = _host.Observed.LeaderId;
        if (leader == 0) throw ServerErrors.Status(StatusCode.Unavailable, "no leader: an election is under way, retry shortly");
        var address = _host.PeerAddressOf(leader)
            ?? throw ServerErrors.Status(StatusCode.Unavailable, $"the address of leader {leader} is not known yet; retry shortly");

        var remaining = CallDeadline.Remaining(context, _defaultTimeout);
        if (remaining <= TimeSpan.Zero) throw ServerErrors.Status(StatusCode.DeadlineExceeded, "deadline exceeded before forwarding to the leader");
        var forward = new ForwardRequest
        {
            Method = fullMethod,
            Request = request.ToByteString(),
            User = caller.User,
            TimeoutMs = (long)remaining.TotalMilliseconds,
        };
        forward.Groups.AddRange(caller.Groups);
        var superseded = SupersededToken(leader);
        using var call = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, superseded);
        try
        {
            var response = await _streams.CallAsync(address, forward, remaining, call.Token).ConfigureAwait(false);
            return responseParser.ParseFrom(response.Response);
        }
        catch (Exception e) when (superseded.IsCancellationRequested && !cancellationToken.IsCancellationRequested && e is RpcException or OperationCanceledException)
        {
            // The old leader may still apply the call when it resumes (or may have already): the outcome is unknown,
            // which UNAVAILABLE tells the client (its session makes the retry exactly-once).
            throw ServerErrors.Status(StatusCode.Unavailable,
                $"master {leader} stopped leading while the call was forwarded to it (its outcome is unknown); retry on the new leader, master {_host.Observed.LeaderId}");
        }
        catch (RpcException e)
        {
            throw ServerErrors.FromLeader(e);
        }
    }

    /// <summary>Leader side of <c>RaftPeer/Forward</c> and of each call on a <c>RaftPeer/ForwardStream</c>; <paramref name="callEnded"/> fires when the follower is gone.</summary>
    public async Task<IMessage> InvokeAsync(ForwardRequest request, CancellationToken callEnded)
    {
        if (!_onLeader.TryGetValue(request.Method, out var handler))
        {
            throw ServerErrors.Status(StatusCode.Unimplemented, $"method {request.Method} cannot be forwarded");
        }

        // Any timeout_ms a peer sends is usable: at most CallDeadline.Longest (CancelAfter throws
        // beyond ~49 days, and TimeSpan.FromMilliseconds beyond ~29,000 years).
        var timeout = request.TimeoutMs > 0
            ? TimeSpan.FromMilliseconds(Math.Min(request.TimeoutMs, (long)CallDeadline.Longest.TotalMilliseconds))
            : _defaultTimeout;
        var identity = CallerIdentity.Create(request.User, request.Groups);
        if (CallerNames.Check(identity) is { } badIdentity) throw ServerErrors.Status(StatusCode.InvalidArgument, badIdentity);
        using var cts = CancellationTokenSource.CreateLinkedTokenSource(callEnded);
        cts.CancelAfter(timeout);
        return await handler(request.Request, identity, cts.Token).ConfigureAwait(false);
    }
}

/// <summary>
/// A cancellation token for a call: the client's deadline, or the server's default when it set
/// none, and never more than <see cref="Longest"/> (a client may send any grpc-timeout up to
/// 99,999,999 hours; timers and forwarded timeouts must stay in range).
/// </summary>
internal static class CallDeadline
{
    /// <summary>The longest any call may run on a master, whatever deadline the client asked for.</summary>
    public static readonly TimeSpan Longest = TimeSpan.FromHours(24);

    /// <summary>grpc-dotnet reports "no deadline" as <see cref="DateTime.MaxValue"/>.</summary>
    public static bool HasDeadline(ServerCallContext context) => context.Deadline != DateTime.MaxValue;

    /// <summary>Time left for the call: until its deadline (at most <see cref="Longest"/>), or the default when it has none.</summary>
    public static TimeSpan Remaining(ServerCallContext context, TimeSpan defaultTimeout)
    {
        if (!HasDeadline(context)) return defaultTimeout;
        var remaining = context.Deadline - DateTime.UtcNow;
        return remaining > Longest ? Longest : remaining;
    }

    public static CancellationTokenSource Link(ServerCallContext context, TimeSpan defaultTimeout)
    {
        var cts = CancellationTokenSource.CreateLinkedTokenSource(context.CancellationToken);
        if (!HasDeadline(context))
        {
            cts.CancelAfter(defaultTimeout);
        }
        else if (context.Deadline - DateTime.UtcNow > Longest)
        {
            cts.CancelAfter(Longest);
        }

        return cts;
    }
}
