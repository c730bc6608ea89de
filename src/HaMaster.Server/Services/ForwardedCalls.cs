using Google.Protobuf;
using HaMaster.Grpc;
using HaMaster.Protos.V1;
using HaMaster.Server.Peers;
using HaMaster.Server.Raft;

namespace HaMaster.Server.Services;

/// <summary>
/// Routes calls that only the leader can serve (writes, worker heartbeats, membership): on
/// the leader they run locally; on a follower they are forwarded in one hop to the leader
/// over the peer API (<c>RaftPeer/Forward</c>, so network partitions apply to them too) and
/// the leader's answer or error is passed back unchanged. With no leader the answer is
/// UNAVAILABLE with a clear message, and the client retries.
/// </summary>
internal sealed class ForwardedCalls
{
    private const string ForwardMethod = "/hamaster.v1.RaftPeer/Forward";
    private readonly Dictionary<string, Func<ByteString, Caller, CancellationToken, Task<IMessage>>> _onLeader = new(StringComparer.Ordinal);
    private readonly RaftHost _host;
    private readonly PeerChannels _channels;
    private readonly TimeSpan _defaultTimeout;

    public ForwardedCalls(RaftHost host, PeerChannels channels, TimeSpan defaultTimeout)
    {
        _host = host;
        _channels = channels;
        _defaultTimeout = defaultTimeout;
    }

    /// <summary>Registers a leader-only unary method on <paramref name="registry"/> and for forwarding.</summary>
    public void Register<TReq, TResp>(
        GrpcServiceRegistry registry,
        string service,
        string method,
        MessageParser<TReq> requestParser,
        MessageParser<TResp> responseParser,
        Func<TReq, Caller, CancellationToken, Task<TResp>> onLeader)
        where TReq : IMessage<TReq>
        where TResp : IMessage<TResp>
    {
        var fullMethod = $"/{service}/{method}";
        _onLeader[fullMethod] = async (bytes, caller, ct) =>
        {
            TReq request;
            try
            {
                request = requestParser.ParseFrom(bytes);
            }
            catch (InvalidProtocolBufferException e)
            {
                throw new GrpcException(StatusCode.InvalidArgument, $"could not parse forwarded {typeof(TReq).Name}: {e.Message}");
            }

            var o = _host.Observed;
            if (!o.IsLeader) throw new NotLeaderException(o.LeaderId, "the forwarded call reached a master that is no longer the leader; retry");
            return await onLeader(request, caller, ct).ConfigureAwait(false);
        };

        registry.AddUnary<TReq, TResp>(service, method, requestParser, async (request, context) =>
        {
            var caller = CallerIdentity.From(context);
            using var timeout = CallDeadline.Link(context, _defaultTimeout);
            try
            {
                if (_host.Observed.IsLeader) return await onLeader(request, caller, timeout.Token).ConfigureAwait(false);
                return await ForwardAsync(fullMethod, request, responseParser, caller, context, timeout.Token).ConfigureAwait(false);
            }
            catch (Exception e) when (e is not GrpcException && e is not OperationCanceledException)
            {
                throw ServerErrors.ToGrpc(e);
            }
        });
    }

    private async Task<TResp> ForwardAsync<TReq, TResp>(string fullMethod, TReq request, MessageParser<TResp> responseParser, Caller caller, ServerCallContext context, CancellationToken cancellationToken)
        where TReq : IMessage<TReq>
        where TResp : IMessage<TResp>
    {
        var leader = _host.Observed.LeaderId;
        if (leader == 0) throw new GrpcException(StatusCode.Unavailable, "no leader: an election is under way, retry shortly");
        var address = _host.PeerAddressOf(leader)
            ?? throw new GrpcException(StatusCode.Unavailable, $"the address of leader {leader} is not known yet; retry shortly");

        var remaining = context.Deadline is { } d ? d - DateTimeOffset.UtcNow : _defaultTimeout;
        if (remaining <= TimeSpan.Zero) throw new GrpcException(StatusCode.DeadlineExceeded, "deadline exceeded before forwarding to the leader");
        var forward = new ForwardRequest
        {
            Method = fullMethod,
            Request = request.ToByteString(),
            User = caller.User,
            TimeoutMs = (long)remaining.TotalMilliseconds,
        };
        forward.Groups.AddRange(caller.Groups);
        try
        {
            var response = await _channels.Get(address)
                .UnaryAsync(ForwardMethod, forward, ForwardResponse.Parser, _channels.Options(remaining, cancellationToken))
                .ConfigureAwait(false);
            return responseParser.ParseFrom(response.Message.Response);
        }
        catch (GrpcException e)
        {
            // Pass the leader's verdict through unchanged (its status and message).
            throw new GrpcException(e.Status, e.Detail);
        }
    }

    /// <summary>Leader side of <c>RaftPeer/Forward</c>.</summary>
    public async Task<IMessage> InvokeAsync(ForwardRequest request, ServerCallContext context)
    {
        if (!_onLeader.TryGetValue(request.Method, out var handler))
        {
            throw new GrpcException(StatusCode.Unimplemented, $"method {request.Method} cannot be forwarded");
        }

        var timeout = request.TimeoutMs > 0 ? TimeSpan.FromMilliseconds(request.TimeoutMs) : _defaultTimeout;
        using var cts = CancellationTokenSource.CreateLinkedTokenSource(context.CancellationToken);
        cts.CancelAfter(timeout);
        try
        {
            return await handler(request.Request, CallerIdentity.Create(request.User, request.Groups), cts.Token).ConfigureAwait(false);
        }
        catch (Exception e) when (e is not GrpcException && e is not OperationCanceledException)
        {
            throw ServerErrors.ToGrpc(e);
        }
    }
}

/// <summary>A cancellation token for a call: the client's deadline, or the server's default when it set none.</summary>
internal static class CallDeadline
{
    public static CancellationTokenSource Link(ServerCallContext context, TimeSpan defaultTimeout)
    {
        var cts = CancellationTokenSource.CreateLinkedTokenSource(context.CancellationToken);
        if (context.Deadline is null) cts.CancelAfter(defaultTimeout);
        return cts;
    }
}
