using System.Net;
using Grpc.AspNetCore.Server;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace HaMaster.Server.Hosting;

/// <summary>What one gRPC port serves and how: address, TLS, limits, services, interceptors.</summary>
internal sealed record GrpcPortOptions
{
    public required IPAddress Address { get; init; }

    /// <summary>0 = a free port (read back <see cref="GrpcPort.Port"/>).</summary>
    public required int Port { get; init; }

    /// <summary>PKCS#12 certificate: HTTP/2 over TLS (ALPN h2); null = cleartext h2c with prior knowledge.</summary>
    public string? CertificatePath { get; init; }

    public string? CertificatePassword { get; init; }

    /// <summary>
    /// With <see cref="CertificatePath"/>: require every connection to present a client certificate
    /// chaining to this authority (PEM or DER), mutual TLS; null = no client certificate asked.
    /// </summary>
    public string? RequireClientCertificateFrom { get; init; }

    /// <summary>
    /// With <see cref="CertificatePath"/>: ask for an optional client certificate, which must chain to
    /// this authority when one is given (an interceptor decides which calls need it); null = none asked.
    /// </summary>
    public string? AllowClientCertificateFrom { get; init; }

    /// <summary>
    /// Adjusts the TLS handshake (client authentication asks for client certificates); only with
    /// <see cref="CertificatePath"/>. Runs after the settings above and may replace them.
    /// </summary>
    public Action<Microsoft.AspNetCore.Server.Kestrel.Https.HttpsConnectionAdapterOptions>? ConfigureHttps { get; init; }

    /// <summary>Largest request and response message (RESOURCE_EXHAUSTED beyond it).</summary>
    public required int MaxMessageBytes { get; init; }

    public GrpcPortLimits Limits { get; init; } = new();

    /// <summary>Registers the port's service instances and what they need (interceptor instances, health checks).</summary>
    public required Action<IServiceCollection> ConfigureServices { get; init; }

    /// <summary>Adds the port's interceptors to <see cref="GrpcServiceOptions.Interceptors"/>, outermost first.</summary>
    public required Action<GrpcServiceOptions> ConfigureGrpc { get; init; }

    /// <summary>Maps the port's gRPC services (<c>MapGrpcService&lt;T&gt;</c>, health, reflection).</summary>
    public required Action<WebApplication> MapServices { get; init; }

    /// <summary>
    /// Where Kestrel's and grpc-dotnet's own warnings go (null = nowhere), at most one line per
    /// category and event per 10 s (<see cref="Observability.ThrottledLoggerFactory"/>).
    /// </summary>
    public ILoggerFactory? LoggerFactory { get; init; }

    /// <summary>
    /// Admission control in front of the services (client port); null = none (peer port). With it,
    /// the port also enforces <see cref="GrpcPortLimits.MinRequestBodyBytesPerSecond"/>.
    /// </summary>
    public ClientAdmission? Admission { get; init; }
}

/// <summary>
/// One gRPC port of the master (client or peer): a Kestrel server speaking HTTP/2 only, with
/// Grpc.AspNetCore services. Each port is its own small ASP.NET Core application, so the client
/// port's services and interceptors are never reachable through the peer port and vice versa.
/// </summary>
internal sealed class GrpcPort : IAsyncDisposable
{
    private readonly WebApplication _app;

    private GrpcPort(WebApplication app, int port)
    {
        _app = app;
        Port = port;
    }

    /// <summary>The bound port (the real one when 0 was asked).</summary>
    public int Port { get; }

    /// <summary>The Kestrel options the port runs with (for tests).</summary>
    internal KestrelServerOptions ServerOptions => _app.Services.GetRequiredService<Microsoft.Extensions.Options.IOptions<KestrelServerOptions>>().Value;

    public static async Task<GrpcPort> StartAsync(GrpcPortOptions options, CancellationToken cancellationToken)
    {
        var limits = options.Limits.Validate();
        var builder = KestrelHost.CreateBuilder();
        builder.Logging.ClearProviders();
        if (options.LoggerFactory is { } loggers)
        {
            // Floods of resets or malformed streams make Kestrel and grpc-dotnet log one line each.
            builder.Services.AddSingleton<ILoggerFactory>(new PortLoggerFactory(new Observability.ThrottledLoggerFactory(loggers)));
        }

        if (options.CertificatePath is not null)
        {
            builder.WebHost.UseKestrelHttpsConfiguration();
        }

        builder.Services.Configure<Microsoft.Extensions.Hosting.HostOptions>(host => host.ShutdownTimeout = limits.ShutdownTimeout);

        builder.WebHost.ConfigureKestrel(kestrel =>
        {
            kestrel.AddServerHeader = false;
            // HPACK-indexing response headers keeps a dynamic table per connection for as long as
            // it lives; see GrpcPortLimits.CompressClientResponseHeaders.
            kestrel.AllowResponseHeaderCompression = options.Admission is null || limits.CompressClientResponseHeaders;
            kestrel.Limits.KeepAliveTimeout = limits.IdleConnectionTimeout;
            kestrel.Limits.RequestHeadersTimeout = limits.HandshakeTimeout;
            // gRPC limits messages, not bodies: a DeliverStream or snapshot stream is one long body,
            // and a peer stream may stay quiet for a while.
            kestrel.Limits.MaxRequestBodySize = null;
            // The client port's calls are all unary requests: there a caller that opens a call and
            // sends nothing is cut off (admission control bounds the rest).
            kestrel.Limits.MinRequestBodyDataRate = options.Admission is not null && limits.MinRequestBodyBytesPerSecond > 0
                ? new MinDataRate(limits.MinRequestBodyBytesPerSecond, TimeSpan.FromSeconds(5))
                : null;
            var http2 = kestrel.Limits.Http2;
            http2.MaxStreamsPerConnection = options.Admission is null ? limits.MaxStreamsPerConnection : limits.MaxStreamsPerClientConnection;
            http2.KeepAlivePingDelay = limits.KeepAlivePingDelay;
            http2.KeepAlivePingTimeout = limits.KeepAlivePingTimeout;
            http2.InitialStreamWindowSize = limits.StreamWindowBytes;
            http2.InitialConnectionWindowSize = Math.Max(limits.ConnectionWindowBytes, limits.StreamWindowBytes);
            http2.HeaderTableSize = limits.HeaderTableBytes;
            kestrel.Listen(options.Address, options.Port, listen =>
            {
                listen.Protocols = HttpProtocols.Http2;
                if (options.Admission is { } admission) listen.Use(admission.TrackConnections);
                if (options.CertificatePath is not null && (options.RequireClientCertificateFrom ?? options.AllowClientCertificateFrom) is { } authority)
                {
                    listen.UseHttps(https =>
                    {
                        https.ServerCertificate = System.Security.Cryptography.X509Certificates.X509CertificateLoader.LoadPkcs12FromFile(options.CertificatePath, options.CertificatePassword);
                        https.ClientCertificateMode = options.RequireClientCertificateFrom is not null
                            ? Microsoft.AspNetCore.Server.Kestrel.Https.ClientCertificateMode.RequireCertificate
                            : Microsoft.AspNetCore.Server.Kestrel.Https.ClientCertificateMode.AllowCertificate;
                        https.ClientCertificateValidation = Peers.PeerTls.ChainsTo(authority);
                        options.ConfigureHttps?.Invoke(https);
                    });
                }
                else if (options.CertificatePath is not null)
                {
                    listen.UseHttps(options.CertificatePath, options.CertificatePassword, https => options.ConfigureHttps?.Invoke(https));
                }
            });
        });

        builder.Services.AddGrpc(grpc =>
        {
            grpc.MaxReceiveMessageSize = options.MaxMessageBytes;
            grpc.MaxSendMessageSize = options.MaxMessageBytes;
            grpc.EnableDetailedErrors = false;
            // Unknown services and methods get UNIMPLEMENTED (not an HTTP 404).
            grpc.IgnoreUnknownServices = false;
            options.ConfigureGrpc(grpc);
        });
        // A request that is not valid protobuf: INVALID_ARGUMENT with the reason, not UNKNOWN.
        ParsingServiceMethodProvider<object>.Use(builder.Services);
        options.ConfigureServices(builder.Services);

        var app = builder.Build();
        if (options.Admission is { } admitted) app.Use(admitted.InvokeAsync);
        options.MapServices(app);
        try
        {
            await app.StartAsync(cancellationToken).ConfigureAwait(false);
        }
        catch
        {
            await app.DisposeAsync().ConfigureAwait(false);
            throw;
        }

        var bound = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()?.Addresses.FirstOrDefault()
            ?? throw new InvalidOperationException("Kestrel reported no bound address.");
        return new GrpcPort(app, new Uri(bound.Replace("[::]", "localhost", StringComparison.Ordinal)).Port);
    }

    public async ValueTask DisposeAsync()
    {
        try
        {
            await _app.StopAsync(CancellationToken.None).ConfigureAwait(false);
        }
        finally
        {
            await _app.DisposeAsync().ConfigureAwait(false);
        }
    }
}
