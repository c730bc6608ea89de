using System.Security.Cryptography;
using System.Text;
using HaMaster.Grpc;
using HaMaster.Server.Raft;
using Microsoft.Extensions.Logging;

namespace HaMaster.Server.Services;

/// <summary>
/// Adds the current leader's client address as trailing metadata <c>hamaster-leader</c> to every
/// response, success or failure, so clients go straight to the leader next time.
/// </summary>
internal sealed class LeaderTrailerInterceptor(RaftHost host) : IGrpcServerInterceptor
{
    public const string LeaderTrailer = "hamaster-leader";
    public const string LeaderIdTrailer = "hamaster-leader-id";

    public async ValueTask InterceptAsync(ServerCallContext context, GrpcCallContinuation continuation)
    {
        try
        {
            await continuation(context).ConfigureAwait(false);
        }
        finally
        {
            var leader = host.Observed.LeaderId;
            if (leader != 0)
            {
                var address = host.Directory.Members.FirstOrDefault(m => m.Id == leader)?.ClientAddress;
                if (!string.IsNullOrEmpty(address)) context.ResponseTrailers.Add(LeaderTrailer, address);
                context.ResponseTrailers.Add(LeaderIdTrailer, leader.ToString(System.Globalization.CultureInfo.InvariantCulture));
            }
        }
    }
}

/// <summary>
/// Requires the cluster secret (header <c>hamaster-cluster-secret</c>) on calls to the guarded
/// services: a process without it cannot vote, append, install snapshots or change membership.
/// Compared in constant time.
/// </summary>
internal sealed class ClusterSecretInterceptor : IGrpcServerInterceptor
{
    private readonly byte[] _secret;
    private readonly Func<string, bool> _guarded;
    private readonly ILogger _logger;

    public ClusterSecretInterceptor(string secret, Func<string, bool> guarded, ILogger logger)
    {
        _secret = Encoding.UTF8.GetBytes(secret);
        _guarded = guarded;
        _logger = logger;
    }

    public ValueTask InterceptAsync(ServerCallContext context, GrpcCallContinuation continuation)
    {
        if (_guarded(context.Method))
        {
            var given = context.RequestHeaders.Get(Peers.PeerAuth.SecretHeader);
            if (given is null || !CryptographicOperations.FixedTimeEquals(Encoding.UTF8.GetBytes(given), _secret))
            {
                LogMessages.Rejected(_logger, context.Method, context.Peer, given is null ? "no cluster secret" : "wrong cluster secret");
                throw new GrpcException(StatusCode.Unauthenticated, given is null
                    ? $"{context.Method} requires the cluster secret (header {Peers.PeerAuth.SecretHeader})"
                    : $"{context.Method}: the cluster secret does not match");
            }
        }

        return continuation(context);
    }
}
