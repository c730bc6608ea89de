using System.Collections.Concurrent;
using Grpc.Core;
using Grpc.Net.Client;
using HaMaster.Protos.V1;

namespace HaMaster.Server.Peers;

/// <summary>
/// One <see cref="GrpcChannel"/> (Grpc.Net.Client over one <see cref="SocketsHttpHandler"/>: HTTP/2,
/// many concurrent streams each) and its generated <see cref="RaftPeer.RaftPeerClient"/> per remote
/// peer address, created on first use and shared by every component that talks to that master.
/// Thread-safe.
/// </summary>
internal sealed class PeerChannels : IDisposable
{
    private readonly ConcurrentDictionary<string, (GrpcChannel Channel, RaftPeer.RaftPeerClient Client)> _peers = new(StringComparer.Ordinal);
    private readonly int _maxMessageBytes;
    private readonly string? _clusterSecret;
    private readonly string _scheme;
    private readonly System.Net.Security.SslClientAuthenticationOptions? _tls;
    private readonly ulong _selfId;
    private readonly string? _selfPeerAddress;
    private readonly ClusterIdentity? _cluster;

    public PeerChannels(int maxMessageBytes, string? clusterSecret, ulong selfId = 0, string? selfPeerAddress = null, bool useTls = false, string? trustedCertificatePath = null,
        System.Security.Cryptography.X509Certificates.X509Certificate2? clientCertificate = null, ClusterIdentity? cluster = null)
    {
        _cluster = cluster;
        _scheme = useTls ? "https" : "http";
        _selfId = selfId;
        _selfPeerAddress = selfPeerAddress;
        _maxMessageBytes = maxMessageBytes;
        _tls = useTls ? PeerTls.ClientOptions(trustedCertificatePath, clientCertificate) : null;
        _clusterSecret = clusterSecret;
    }

    /// <summary>The generated RaftPeer client of the master at <paramref name="hostPort"/>.</summary>
    public RaftPeer.RaftPeerClient Get(string hostPort) =>
        _peers.GetOrAdd(hostPort, static (a, self) => self.Open(a), this).Client;

    private (GrpcChannel, RaftPeer.RaftPeerClient) Open(string hostPort)
    {
        var handler = new SocketsHttpHandler
        {
            // A dead peer must fail fast: the transport reports it unreachable and Raft retries.
            ConnectTimeout = TimeSpan.FromSeconds(1),
            EnableMultipleHttp2Connections = true,
            KeepAlivePingDelay = TimeSpan.FromSeconds(10),
            KeepAlivePingTimeout = TimeSpan.FromSeconds(10),
            KeepAlivePingPolicy = HttpKeepAlivePingPolicy.WithActiveRequests,
            PooledConnectionIdleTimeout = TimeSpan.FromMinutes(5),
            InitialHttp2StreamWindowSize = 1 << 20,
            UseProxy = false,
            UseCookies = false,
            AllowAutoRedirect = false,
        };
        if (_tls is not null) handler.SslOptions = _tls;
        var channel = GrpcChannel.ForAddress(new Uri($"{_scheme}://{hostPort}"), new GrpcChannelOptions
        {
            HttpHandler = handler,
            DisposeHttpClient = true,
            MaxReceiveMessageSize = _maxMessageBytes,
            MaxSendMessageSize = _maxMessageBytes,
        });
        return (channel, new RaftPeer.RaftPeerClient(channel));
    }

    /// <summary>Call options carrying the cluster secret, the cluster id and a timeout (null: none, for long-lived streams).</summary>
    public CallOptions Options(TimeSpan? timeout, CancellationToken cancellationToken = default)
    {
        var headers = new Grpc.Core.Metadata();
        if (_clusterSecret is not null) headers.Add(PeerAuth.SecretHeader, _clusterSecret);
        // Read per call: a joining master learns its cluster's id after it started.
        if (_cluster?.Id is { } clusterId) headers.Add(ClusterIdentity.Header, clusterId);
        if (_selfId != 0 && _selfPeerAddress is not null)
        {
            // Lets a receiver that does not know us yet (a master that just joined) answer us.
            headers.Add(PeerAuth.SenderIdHeader, _selfId.ToString(System.Globalization.CultureInfo.InvariantCulture));
            headers.Add(PeerAuth.SenderAddressHeader, _selfPeerAddress);
        }

        return new CallOptions(headers, timeout is { } t ? DateTime.UtcNow + t : null, cancellationToken);
    }

    public void Dispose()
    {
        foreach (var (channel, _) in _peers.Values) channel.Dispose();
        _peers.Clear();
    }
}

/// <summary>Names shared by the peer API's client and server sides.</summary>
internal static class PeerAuth
{
    public const string SecretHeader = "hamaster-cluster-secret";
    public const string SenderIdHeader = "hamaster-peer-id";
    public const string SenderAddressHeader = "hamaster-peer-address";
}

/// <summary>TLS settings for calls to other masters.</summary>
internal static class PeerTls
{
    /// <summary>Trusts <paramref name="trustedCertificatePath"/>'s authority (null: system roots); presents <paramref name="clientCertificate"/> to peers that require mutual TLS (null: none).</summary>
    public static System.Net.Security.SslClientAuthenticationOptions ClientOptions(string? trustedCertificatePath, System.Security.Cryptography.X509Certificates.X509Certificate2? clientCertificate = null)
    {
        var options = new System.Net.Security.SslClientAuthenticationOptions();
        if (clientCertificate is not null)
        {
            // Offered whatever CA names the server lists, and whatever the selection heuristics think.
            options.LocalCertificateSelectionCallback = (_, _, _, _, _) => clientCertificate;
        }

        if (trustedCertificatePath is null) return options;
        var authority = System.Security.Cryptography.X509Certificates.X509CertificateLoader.LoadCertificateFromFile(trustedCertificatePath);
        options.RemoteCertificateValidationCallback = (_, certificate, _, errors) =>
        {
            if (certificate is null) return false;
            if ((errors & System.Net.Security.SslPolicyErrors.RemoteCertificateNameMismatch) != 0) return false;
            using var chain = new System.Security.Cryptography.X509Certificates.X509Chain();
            chain.ChainPolicy.TrustMode = System.Security.Cryptography.X509Certificates.X509ChainTrustMode.CustomRootTrust;
            chain.ChainPolicy.CustomTrustStore.Add(authority);
            chain.ChainPolicy.RevocationMode = System.Security.Cryptography.X509Certificates.X509RevocationMode.NoCheck;
            return chain.Build(new System.Security.Cryptography.X509Certificates.X509Certificate2(certificate));
        };
        return options;
    }

    /// <summary>
    /// A Kestrel client-certificate check for mutual TLS between masters: the certificate must chain
    /// to the authority at <paramref name="authorityPath"/> (the same file the masters trust as
    /// servers), and nothing else; the system's roots are not consulted.
    /// </summary>
    public static Func<System.Security.Cryptography.X509Certificates.X509Certificate2, System.Security.Cryptography.X509Certificates.X509Chain?, System.Net.Security.SslPolicyErrors, bool> ChainsTo(string authorityPath)
    {
        var authority = System.Security.Cryptography.X509Certificates.X509CertificateLoader.LoadCertificateFromFile(authorityPath);
        return (certificate, _, _) =>
        {
            using var chain = new System.Security.Cryptography.X509Certificates.X509Chain();
            chain.ChainPolicy.TrustMode = System.Security.Cryptography.X509Certificates.X509ChainTrustMode.CustomRootTrust;
            chain.ChainPolicy.CustomTrustStore.Add(authority);
            chain.ChainPolicy.RevocationMode = System.Security.Cryptography.X509Certificates.X509RevocationMode.NoCheck;
            return chain.Build(certificate);
        };
    }
}
