using System.Net;
using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Server.Kestrel.Core;

namespace HaMaster.Grpc;

/// <summary>Kestrel settings for serving gRPC: HTTP/2 only, with limits sized for thousands of concurrent calls.</summary>
public static class GrpcKestrelExtensions
{
    /// <summary>
    /// HTTP/2 limits for gRPC: 2000 concurrent streams per connection (Kestrel's default of 100
    /// would queue callers sharing one connection), 1 MiB stream and 8 MiB connection windows,
    /// server keep-alive pings every 30 s, and no request body size limit (limits are per message).
    /// </summary>
    public static KestrelServerOptions ConfigureGrpcLimits(this KestrelServerOptions options, int maxStreamsPerConnection = 2000)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(maxStreamsPerConnection);
        var http2 = options.Limits.Http2;
        http2.MaxStreamsPerConnection = maxStreamsPerConnection;
        http2.InitialStreamWindowSize = 1 << 20;
        http2.InitialConnectionWindowSize = 8 << 20;
        http2.KeepAlivePingDelay = TimeSpan.FromSeconds(30);
        http2.KeepAlivePingTimeout = TimeSpan.FromSeconds(20);
        options.Limits.MaxRequestBodySize = null;
        options.Limits.MinRequestBodyDataRate = null;
        options.AddServerHeader = false;
        return options;
    }

    /// <summary>
    /// Listens for gRPC on <paramref name="address"/>:<paramref name="port"/> (0 = a free port, read it
    /// back with <see cref="GrpcServerHost.Port"/> or IServerAddressesFeature). Without a certificate
    /// the endpoint speaks cleartext HTTP/2 with prior knowledge (h2c); with one, HTTP/2 over TLS (ALPN h2).
    /// </summary>
    public static KestrelServerOptions ListenGrpc(this KestrelServerOptions options, IPAddress address, int port, string? certificatePath = null, string? certificatePassword = null) =>
        ListenGrpc(options, address, port, certificatePath, certificatePassword, connectionHandler: null);

    /// <summary>
    /// As above; with <paramref name="connectionHandler"/>, Kestrel only accepts connections (and
    /// terminates TLS) and the handler speaks the protocol on them.
    /// </summary>
    internal static KestrelServerOptions ListenGrpc(this KestrelServerOptions options, IPAddress address, int port, string? certificatePath, string? certificatePassword, Func<ConnectionContext, Task>? connectionHandler)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(address);
        ArgumentOutOfRangeException.ThrowIfNegative(port);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(port, 65535);
        options.Listen(address, port, listen =>
        {
            listen.Protocols = HttpProtocols.Http2;
            if (!string.IsNullOrEmpty(certificatePath))
            {
                listen.UseHttps(certificatePath, certificatePassword);
            }

            if (connectionHandler is not null)
            {
                listen.Run(connectionHandler);
            }
        });
        return options;
    }

    /// <summary>
    /// The addresses Kestrel actually bound, after the server started (port 0 resolved to the real
    /// port), e.g. http://127.0.0.1:41234. Get the server with <c>app.Services.GetRequiredService&lt;IServer&gt;()</c>.
    /// </summary>
    public static IReadOnlyList<Uri> GetBoundAddresses(this IServer server)
    {
        ArgumentNullException.ThrowIfNull(server);
        var addresses = server.Features.Get<IServerAddressesFeature>()?.Addresses ?? [];
        return addresses.Select(a => new Uri(a.Replace("[::]", "localhost", StringComparison.Ordinal))).ToList();
    }
}
