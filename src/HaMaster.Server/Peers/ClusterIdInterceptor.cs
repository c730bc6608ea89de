using System.Diagnostics;
using Grpc.Core;
using HaMaster.Server.Services;
using Microsoft.Extensions.Logging;

namespace HaMaster.Server.Peers;

/// <summary>
/// Checks the cluster id (header <see cref="ClusterIdentity.Header"/>) of every RaftPeer call
/// before its handler looks at any message: a call from a master of another cluster is refused
/// with PERMISSION_DENIED naming both ids and counted in
/// <c>hamaster_peer_rejected_messages_total{reason="cluster_id"}</c>; a malformed id likewise.
/// A joining master without an id adopts the sender's on the first Raft message call
/// (<see cref="ClusterIdentity.TryAdopt"/>). A call without the header comes from a master of a
/// version before cluster ids and is let through, so clusters can be upgraded one master at a
/// time (README, Peers and the web port). Runs after the cluster secret check, so unauthenticated
/// calls are counted as such. Refusals are logged at most once per 10 s. Thread-safe.
/// </summary>
internal sealed class ClusterIdInterceptor(ClusterIdentity identity, Action<string> rejected, ILogger logger) : CallInterceptor
{
    private static readonly long LogEvery = Stopwatch.Frequency * 10;
    private long _lastLine = long.MinValue;
    private long _suppressed;

    protected override Task<T> InterceptAsync<T>(ServerCallContext context, Func<Task<T>> continuation)
    {
        var given = context.RequestHeaders.GetValue(ClusterIdentity.Header);
        if (given is null) return continuation();
        if (ClusterIdentity.Problem(given) is { } problem)
        {
            throw Refuse(context, $"malformed cluster id in header {ClusterIdentity.Header}: {problem}");
        }

        var local = identity.Id;
        if (local is null)
        {
            // Only Raft traffic makes a joiner adopt an id: a status probe may come from anywhere.
            if (!CarriesRaftMessages(context.Method) || identity.TryAdopt(given)) return continuation();
            local = identity.Id;
        }

        if (local == given) return continuation();
        throw Refuse(context, $"this master belongs to cluster '{local}', the call came from a master of cluster '{given}': masters of different clusters do not exchange Raft messages (check --members and --cluster-id)");
    }

    private static bool CarriesRaftMessages(string method) =>
        method.EndsWith("/Deliver", StringComparison.Ordinal) || method.EndsWith("/DeliverStream", StringComparison.Ordinal)
        || method.EndsWith("/InstallSnapshot", StringComparison.Ordinal) || method.EndsWith("/PrepareSnapshot", StringComparison.Ordinal);

    private RpcException Refuse(ServerCallContext context, string message)
    {
        rejected("cluster_id");
        var now = Stopwatch.GetTimestamp();
        var last = Interlocked.Read(ref _lastLine);
        if (now - last >= LogEvery && Interlocked.CompareExchange(ref _lastLine, now, last) == last)
        {
            LogMessages.Rejected(logger, context.Method, context.Peer, $"{message} ({Interlocked.Exchange(ref _suppressed, 0)} more such calls since the previous line)");
        }
        else
        {
            Interlocked.Increment(ref _suppressed);
        }

        return ServerErrors.Status(StatusCode.PermissionDenied, message);
    }
}
