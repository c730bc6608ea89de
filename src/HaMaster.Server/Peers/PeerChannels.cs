using System.Collections.Concurrent;
using HaMaster.Grpc;

namespace HaMaster.Server.Peers;

/// <summary>
/// One <see cref="GrpcChannel"/> per remote address (HTTP/2, many concurrent streams each),
/// created on first use and shared by every component that talks to that master. Thread-safe.
/// </summary>
internal sealed class PeerChannels : IDisposable
{
    private readonly ConcurrentDictionary<string, GrpcChannel> _channels = new(StringComparer.Ordinal);
    private readonly GrpcChannelOptions _options;
    private readonly string? _clusterSecret;
    private readonly string _scheme;
    private readonly ulong _selfId;
    private readonly string? _selfPeerAddress;

    public PeerChannels(int maxMessageBytes, string? clusterSecret, ulong selfId = 0, string? selfPeerAddress = null, bool useTls = false, string? trustedCertificatePath = null)
    {
        _scheme = useTls ? "https" : "http";
        _selfId = selfId;
        _selfPeerAddress = selfPeerAddress;
        _options = new GrpcChannelOptions
        {
            MaxReceiveMessageBytes = maxMessageBytes,
            MaxSendMessageBytes = maxMessageBytes,
            ConnectTimeout = TimeSpan.FromSeconds(1),
            Tls = useTls ? PeerTls.ClientOptions(trustedCertificatePath) : null,
        };
        _clusterSecret = clusterSecret;
    }

    public GrpcChannel Get(string hostPort) =>
        _channels.GetOrAdd(hostPort, static (a, self) => new GrpcChannel(new Uri($"{self._scheme}://{a}"), self._options), this);

    /// <summary>Call options carrying the cluster secret and a timeout (null: none, for long-lived streams).</summary>
    public CallOptions Options(TimeSpan? timeout, CancellationToken cancellationToken = default)
    {
        var headers = new HaMaster.Grpc.Metadata();
        if (_clusterSecret is not null) headers.Add(PeerAuth.SecretHeader, _clusterSecret);
        if (_selfId != 0 && _selfPeerAddress is not null)
        {
            // Lets a receiver that does not know us yet (a master that just joined) answer us.
            headers.Add(PeerAuth.SenderIdHeader, _selfId.ToString(System.Globalization.CultureInfo.InvariantCulture));
            headers.Add(PeerAuth.SenderAddressHeader, _selfPeerAddress);
        }

        return new CallOptions { Timeout = timeout, Headers = headers, CancellationToken = cancellationToken };
    }

    public void Dispose()
    {
        foreach (var c in _channels.Values) c.Dispose();
        _channels.Clear();
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
    public static System.Net.Security.SslClientAuthenticationOptions ClientOptions(string? trustedCertificatePath)
    {
        var options = new System.Net.Security.SslClientAuthenticationOptions();
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
}
