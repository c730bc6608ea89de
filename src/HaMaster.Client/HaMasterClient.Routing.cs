using Google.Protobuf;
using Grpc.Core;
using HaMaster.Protos.V1;

namespace HaMaster.Client;

// Where each attempt goes: a pinned master, the cached leader, or whoever discovery finds;
// and what each answer teaches us (leader trailers, members).
public sealed partial class HaMasterClient
{
    private const string GetClusterInfoMethod = "/hamaster.v1.ClusterAdmin/GetClusterInfo";
    private static readonly UnaryStub<GetClusterInfoRequest, GetClusterInfoResponse> GetClusterInfoStub = static (m, r, o) => m.Admin.GetClusterInfoAsync(r, o);

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
        if (Options.ClusterSecret is { } secret && method.StartsWith(AdminService, StringComparison.Ordinal))
        {
            headers.Add(ClusterSecretMetadataKey, secret);
        }

        if (Options.BearerToken is { } token)
        {
            headers.Add(AuthorizationMetadataKey, "Bearer " + token);
        }

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

        var hint = trailers.GetValue(LeaderMetadataKey);
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

        var hint = error.Trailers.GetValue(LeaderMetadataKey);
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
}
