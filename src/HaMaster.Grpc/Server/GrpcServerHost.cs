using System.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace HaMaster.Grpc;

/// <summary>Options of a standalone gRPC server. Immutable; <see cref="Validate"/> runs at start.</summary>
public sealed record GrpcServerHostOptions
{
    /// <summary>Address to bind (default 127.0.0.1).</summary>
    public IPAddress Address { get; init; } = IPAddress.Loopback;

    /// <summary>Port to bind; 0 (default) picks a free one, see <see cref="GrpcServerHost.Port"/>.</summary>
    public int Port { get; init; }

    /// <summary>PKCS#12 certificate file for TLS; null (default) serves cleartext h2c.</summary>
    public string? CertificatePath { get; init; }

    public string? CertificatePassword { get; init; }

    /// <summary>Max concurrent HTTP/2 streams per connection (default 2000).</summary>
    public int MaxStreamsPerConnection { get; init; } = 2000;

    public GrpcServerOptions Server { get; init; } = new();

    /// <summary>
    /// Limits and timeouts of the native HTTP/2 server (handshake, idle, keep-alive, windows);
    /// <see cref="MaxStreamsPerConnection"/> overrides its stream limit. Ignored by the Kestrel mode.
    /// </summary>
    public Http2.Http2ServerLimits Http2Limits { get; init; } = new();

    /// <summary>
    /// Which HTTP/2 implementation serves the port: <see cref="GrpcHttp2Server.Native"/> (default,
    /// HaMaster's own, built for many mostly-idle connections) or <see cref="GrpcHttp2Server.Kestrel"/>.
    /// </summary>
    public GrpcHttp2Server Http2Server { get; init; } = GrpcHttp2Server.Native;

    /// <summary>Logging setup; by default no providers (silent).</summary>
    public Action<ILoggingBuilder>? ConfigureLogging { get; init; }

    /// <summary>Extra registrations, e.g. services used by handlers.</summary>
    public Action<IServiceCollection>? ConfigureServices { get; init; }

    public GrpcServerHostOptions Validate()
    {
        ArgumentNullException.ThrowIfNull(Address);
        ArgumentOutOfRangeException.ThrowIfNegative(Port);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(Port, 65535);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(MaxStreamsPerConnection);
        ArgumentNullException.ThrowIfNull(Http2Limits);
        Http2Limits.Validate();
        Server.Validate();
        return this;
    }
}

/// <summary>
/// A minimal Kestrel application serving one <see cref="GrpcServiceRegistry"/>: for tests, tools
/// and benchmarks. The master process builds its own WebApplication with
/// <see cref="GrpcKestrelExtensions"/> and <see cref="GrpcEndpointExtensions.MapGrpcServices"/>.
/// </summary>
public sealed class GrpcServerHost : IAsyncDisposable
{
    private readonly Http2.Http2ConnectionHandler? _native;

    private GrpcServerHost(WebApplication app, Uri address, Http2.Http2ConnectionHandler? native)
    {
        App = app;
        Address = address;
        _native = native;
    }

    /// <summary>Connections the native HTTP/2 server is serving now (null in the Kestrel mode).</summary>
    public int? OpenConnections => _native?.ConnectionCount;

    public WebApplication App { get; }

    /// <summary>The bound address, e.g. http://127.0.0.1:41234/ (https when TLS).</summary>
    public Uri Address { get; }

    /// <summary>The bound port (the real one when 0 was asked).</summary>
    public int Port => Address.Port;

    public static async ValueTask<GrpcServerHost> StartAsync(GrpcServiceRegistry registry, GrpcServerHostOptions? options = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(registry);
        var validated = (options ?? new GrpcServerHostOptions()).Validate();
        var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions { Args = [] });
        builder.Logging.ClearProviders();
        validated.ConfigureLogging?.Invoke(builder.Logging);
        validated.ConfigureServices?.Invoke(builder.Services);
        if (validated.CertificatePath is not null)
        {
            builder.WebHost.UseKestrelHttpsConfiguration();
        }

        var native = validated.Http2Server == GrpcHttp2Server.Native;
        Http2.Http2ConnectionHandler? handler = null;
        builder.WebHost.ConfigureKestrel(kestrel =>
        {
            kestrel.ConfigureGrpcLimits(validated.MaxStreamsPerConnection);
            if (native)
            {
                var logger = kestrel.ApplicationServices.GetService<ILoggerFactory>()?.CreateLogger("HaMaster.Grpc") ?? (ILogger)Microsoft.Extensions.Logging.Abstractions.NullLogger.Instance;
                handler = new Http2.Http2ConnectionHandler(
                    GrpcNativeDispatch.Create(registry, validated.Server, logger),
                    validated.Http2Limits with { MaxConcurrentStreams = validated.MaxStreamsPerConnection },
                    logger);
                kestrel.ListenGrpc(validated.Address, validated.Port, validated.CertificatePath, validated.CertificatePassword, handler.OnConnectedAsync);
            }
            else
            {
                kestrel.ListenGrpc(validated.Address, validated.Port, validated.CertificatePath, validated.CertificatePassword);
            }
        });

        var app = builder.Build();
        if (!native)
        {
            app.MapGrpcServices(registry, validated.Server);
        }
        try
        {
            await app.StartAsync(cancellationToken).ConfigureAwait(false);
        }
        catch
        {
            await app.DisposeAsync().ConfigureAwait(false);
            throw;
        }

        var bound = app.Services.GetRequiredService<IServer>().GetBoundAddresses();
        if (bound.Count == 0)
        {
            await app.DisposeAsync().ConfigureAwait(false);
            throw new InvalidOperationException("Kestrel reported no bound address.");
        }

        return new GrpcServerHost(app, bound[0], handler);
    }

    public async ValueTask DisposeAsync()
    {
        try
        {
            await App.StopAsync(CancellationToken.None).ConfigureAwait(false);
        }
        finally
        {
            await App.DisposeAsync().ConfigureAwait(false);
        }
    }
}
