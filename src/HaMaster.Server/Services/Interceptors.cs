using System.Security.Cryptography;
using System.Text;
using Grpc.Core;
using HaMaster.Server.Raft;
using Microsoft.Extensions.Logging;

namespace HaMaster.Server.Services;

/// <summary>
/// Adds the current leader's client address as trailing metadata <c>hamaster-leader</c> to every
/// response, success or failure, so clients go straight to the leader next time.
/// </summary>
internal sealed class LeaderTrailerInterceptor(RaftHost host) : CallInterceptor
{
    public const string LeaderTrailer = "hamaster-leader";
    public const string LeaderIdTrailer = "hamaster-leader-id";

    protected override async Task<T> InterceptAsync<T>(ServerCallContext context, Func<Task<T>> continuation)
    {
        try
        {
            return await continuation().ConfigureAwait(false);
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
/// The one place where the master's failures become gRPC statuses on the wire: every exception a
/// handler lets escape that is not already an <see cref="RpcException"/> is mapped by
/// <see cref="ServerErrors.ToRpc"/> (a cancellation by the deadline or by the client keeps
/// grpc-dotnet's own DEADLINE_EXCEEDED / CANCELLED).
/// </summary>
internal sealed class ErrorStatusInterceptor(ILogger<ErrorStatusInterceptor> logger) : CallInterceptor
{
    protected override async Task<T> InterceptAsync<T>(ServerCallContext context, Func<Task<T>> continuation)
    {
        try
        {
            return await continuation().ConfigureAwait(false);
        }
        catch (Exception e) when (e is not RpcException && !(e is OperationCanceledException && context.CancellationToken.IsCancellationRequested))
        {
            var mapped = ServerErrors.ToRpc(e);
            if (ServerErrors.ShouldLog(e)) LogMessages.CallFailed(logger, context.Method, e);
            throw mapped;
        }
    }
}

/// <summary>
/// Reads the caller's identity (headers <c>hamaster-user</c> / <c>hamaster-groups</c>) once per
/// call and keeps it in the call's <see cref="ServerCallContext.UserState"/> for the handlers
/// (<see cref="CallerIdentity.From"/>) and the rate limit.
/// </summary>
internal sealed class CallerIdentityInterceptor : CallInterceptor
{
    protected override Task<T> InterceptAsync<T>(ServerCallContext context, Func<Task<T>> continuation)
    {
        context.UserState[CallerIdentity.StateKey] = CallerIdentity.Parse(context.RequestHeaders);
        return continuation();
    }
}

/// <summary>
/// Requires the cluster secret (header <c>hamaster-cluster-secret</c>) on calls to the guarded
/// methods: a process without it cannot vote, append, install snapshots or change membership.
/// Compared in constant time.
/// </summary>
internal sealed class ClusterSecretInterceptor : CallInterceptor
{
    private readonly byte[] _secret;
    private readonly Func<string, bool> _guarded;
    private readonly ILogger _logger;
    private readonly Action? _rejected;

    /// <summary>Guards the methods <paramref name="guarded"/> selects with <paramref name="secret"/>; <paramref name="rejected"/> is called once per refused call (a metric).</summary>
    public ClusterSecretInterceptor(string secret, Func<string, bool> guarded, ILogger logger, Action? rejected = null)
    {
        _secret = Encoding.UTF8.GetBytes(secret);
        _guarded = guarded;
        _logger = logger;
        _rejected = rejected;
    }

    protected override Task<T> InterceptAsync<T>(ServerCallContext context, Func<Task<T>> continuation)
    {
        if (_guarded(context.Method))
        {
            var given = context.RequestHeaders.GetValue(Peers.PeerAuth.SecretHeader);
            if (given is null || !CryptographicOperations.FixedTimeEquals(Encoding.UTF8.GetBytes(given), _secret))
            {
                _rejected?.Invoke();
                LogMessages.Rejected(_logger, context.Method, context.Peer, given is null ? "no cluster secret" : "wrong cluster secret");
                throw new RpcException(new Status(StatusCode.Unauthenticated, given is null
                    ? $"{context.Method} requires the cluster secret (header {Peers.PeerAuth.SecretHeader})"
                    : $"{context.Method}: the cluster secret does not match"));
            }
        }

        return continuation();
    }
}

/// <summary>
/// Mutual TLS between masters without a cluster secret: the guarded methods (membership and admin
/// changes on the client port) need a client certificate, which Kestrel has already checked chains
/// to the masters' trusted CA (<see cref="Hosting.GrpcPortOptions.AllowClientCertificateFrom"/>).
/// With <c>--auth tls</c> the handshake also lets callers' certificates of the client CA in, so
/// <paramref name="trusted"/> (when given) checks again that the certificate is the masters' CA's.
/// </summary>
internal sealed class ClusterCertificateInterceptor(Func<string, bool> guarded, ILogger logger, Func<System.Security.Cryptography.X509Certificates.X509Certificate2, bool>? trusted = null) : CallInterceptor
{
    protected override Task<T> InterceptAsync<T>(ServerCallContext context, Func<Task<T>> continuation)
    {
        var certificate = guarded(context.Method) ? context.GetHttpContext().Connection.ClientCertificate : null;
        if (guarded(context.Method) && (certificate is null || (trusted is not null && !trusted(certificate))))
        {
            LogMessages.Rejected(logger, context.Method, context.Peer, certificate is null ? "no client certificate" : "client certificate not of the masters' CA");
            throw new RpcException(new Status(StatusCode.Unauthenticated,
                $"{context.Method} requires a client certificate signed by the masters' CA (mutual TLS; no cluster secret is configured)"));
        }

        return continuation();
    }
}
