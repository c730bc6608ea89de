using System.Net.Http;
using Google.Protobuf;
using HaMaster.Grpc;
using HaMaster.Protos.V1;

namespace HaMaster.Client;

// Where each attempt goes: a pinned master, the cached leader, or whoever discovery finds;
// and what each answer teaches us (leader trailers, members).
public sealed partial class HaMasterClient
{
    private const string GetClusterInfoMethod = "/hamaster.v1.ClusterAdmin/GetClusterInfo";

    private async ValueTask<TResp> AttemptAsync<TReq, TResp>(string method, TReq request, MessageParser<TResp> parser, CallState state, CancellationToken cancellationToken)
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
        catch (GrpcException ex)
        {
            state.LastError = ex;
            throw;
        }

        state.LastMaster = target;
        var timeout = Options.CallTimeout < remaining || remaining <= TimeSpan.Zero ? Options.CallTimeout : remaining;
        try
        {
            var response = await CallAsync(target, method, request, parser, timeout, cancellationToken).ConfigureAwait(false);
            ObserveAnswer(target, response.Trailers, response.Headers);
            return response.Message;
        }
        catch (GrpcException ex)
        {
            state.LastError = ex;
            state.Redirected = ObserveFailure(target, ex);
            throw;
        }
    }

    /// <summary>One unary call to one master; transport exceptions are normalised to <see cref="GrpcException"/>.</summary>
    private async ValueTask<GrpcResponse<TResp>> CallAsync<TReq, TResp>(string target, string method, TReq request, MessageParser<TResp> parser, TimeSpan timeout, CancellationToken cancellationToken)
        where TReq : IMessage<TReq>
        where TResp : IMessage<TResp>
    {
        var options = new CallOptions { Timeout = timeout, Headers = BuildHeaders(), CancellationToken = cancellationToken };
        try
        {
            return await _roster.Channel(target).UnaryAsync(method, request, parser, options).ConfigureAwait(false);
        }
        catch (HttpRequestException ex)
        {
            throw new GrpcException(StatusCode.Unavailable, $"cannot reach {target}: {ex.Message}", null, ex);
        }
        catch (IOException ex)
        {
            throw new GrpcException(StatusCode.Unavailable, $"connection to {target} failed: {ex.Message}", null, ex);
        }
        catch (OperationCanceledException ex) when (!cancellationToken.IsCancellationRequested)
        {
            throw new GrpcException(StatusCode.DeadlineExceeded, $"no answer from {target} within {timeout.TotalMilliseconds:0} ms", null, ex);
        }
    }

    private Metadata BuildHeaders()
    {
        var headers = new Metadata();
        if (Options.User is { } user)
        {
            headers.Add(UserMetadataKey, user);
        }

        if (Options.Groups.Count > 0)
        {
            headers.Add(GroupsMetadataKey, string.Join(',', Options.Groups));
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

    /// <summary>Asks each known master once, in round-robin order, until one answers GetClusterInfo.</summary>
    private async ValueTask<GetClusterInfoResponse> DiscoverFromAnyAsync(CallState state, CancellationToken cancellationToken)
    {
        GrpcException? last = null;
        var count = _roster.Known.Count;
        for (var i = 0; i < count; i++)
        {
            var candidate = _roster.NextCandidate();
            state.LastMaster = candidate;
            var timeout = Options.DiscoveryTimeout < Options.CallTimeout ? Options.DiscoveryTimeout : Options.CallTimeout;
            try
            {
                var response = await CallAsync(candidate, GetClusterInfoMethod, new GetClusterInfoRequest(), GetClusterInfoResponse.Parser, timeout, cancellationToken).ConfigureAwait(false);
                ObserveAnswer(candidate, response.Trailers, response.Headers);
                var cluster = response.Message;
                _roster.Learn(cluster.Members.Select(m => m.ClientAddress));
                if (!string.IsNullOrEmpty(cluster.LeaderAddress))
                {
                    _roster.ObserveLeader(cluster.LeaderAddress);
                }

                return cluster;
            }
            catch (GrpcException ex)
            {
                last = ex;
            }
        }

        throw last ?? new GrpcException(StatusCode.Unavailable, "no master address known");
    }

    private void ObserveAnswer(string target, Metadata trailers, Metadata headers)
    {
        if (_pinned is not null || !Options.FollowLeader)
        {
            return;
        }

        var hint = trailers.Get(LeaderMetadataKey) ?? headers.Get(LeaderMetadataKey);
        if (!_roster.ObserveLeader(hint) && _roster.Leader is null)
        {
            // The master answered but named no leader; keep using it rather than rediscovering each call.
            _roster.ObserveLeader(target);
        }
    }

    /// <summary>Learns from a failed attempt; returns true when it redirected us to a different master.</summary>
    private bool ObserveFailure(string target, GrpcException error)
    {
        if (_pinned is not null || !Options.FollowLeader)
        {
            return false;
        }

        var hint = error.Trailers.Get(LeaderMetadataKey) ?? error.Headers.Get(LeaderMetadataKey);
        if (MasterEndpoint.TryNormalize(hint, out var leader) && !string.Equals(leader, target, StringComparison.OrdinalIgnoreCase))
        {
            _roster.ObserveLeader(leader);
            return true;
        }

        if (error.Status is StatusCode.Unavailable or StatusCode.DeadlineExceeded)
        {
            // Down, partitioned or leaderless: rediscover through the other masters next attempt.
            _roster.ForgetLeader(target);
        }

        return false;
    }
}
