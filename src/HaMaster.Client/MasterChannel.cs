using Grpc.Net.Client;
using HaMaster.Protos.V1;

namespace HaMaster.Client;

/// <summary>
/// One master's <see cref="GrpcChannel"/> (one <see cref="SocketsHttpHandler"/>: HTTP/2, many
/// concurrent calls as streams of one connection; h2c for http://, TLS for https://) and the
/// generated clients of its three public services.
/// </summary>
public sealed class MasterChannel
{
    private MasterChannel(GrpcChannel channel)
    {
        Channel = channel;
        FileSystem = new FileSystemMaster.FileSystemMasterClient(channel);
        Blocks = new BlockMaster.BlockMasterClient(channel);
        Admin = new ClusterAdmin.ClusterAdminClient(channel);
    }

    public GrpcChannel Channel { get; }

    public FileSystemMaster.FileSystemMasterClient FileSystem { get; }

    public BlockMaster.BlockMasterClient Blocks { get; }

    public ClusterAdmin.ClusterAdminClient Admin { get; }

    /// <summary>Messages up to this size both ways (the masters' default limit; they refuse larger ones).</summary>
    public const int MaxMessageBytes = 16 << 20;

    /// <summary>
    /// A channel to <paramref name="address"/> with the client library's connection settings
    /// (TCP and TLS connect timeout <paramref name="connectTimeout"/>, default 5 s).
    /// </summary>
    public static MasterChannel Open(Uri address, System.Net.Security.SslClientAuthenticationOptions? tls = null, TimeSpan? connectTimeout = null)
    {
        var handler = new SocketsHttpHandler
        {
            EnableMultipleHttp2Connections = true,
            ConnectTimeout = connectTimeout ?? TimeSpan.FromSeconds(5),
            // PING a connection with calls in flight every 30 s: a master that vanished (power
            // loss, partition) fails them after 10 s more instead of at their deadline.
            KeepAlivePingDelay = TimeSpan.FromSeconds(30),
            KeepAlivePingTimeout = TimeSpan.FromSeconds(10),
            KeepAlivePingPolicy = HttpKeepAlivePingPolicy.WithActiveRequests,
            PooledConnectionIdleTimeout = TimeSpan.FromMinutes(2),
            UseProxy = false,
            UseCookies = false,
            AllowAutoRedirect = false,
        };
        if (tls is not null) handler.SslOptions = tls;
        return new MasterChannel(GrpcChannel.ForAddress(address, new GrpcChannelOptions
        {
            HttpHandler = handler,
            DisposeHttpClient = true,
            MaxReceiveMessageSize = MaxMessageBytes,
            MaxSendMessageSize = MaxMessageBytes,
        }));
    }
}
