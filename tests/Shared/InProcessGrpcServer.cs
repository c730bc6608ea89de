using System.Net;
using Grpc.AspNetCore.Server;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace HaMaster.Testing;

/// <summary>
/// A Grpc.AspNetCore server on 127.0.0.1 and a free port (cleartext HTTP/2), for tests and
/// benchmarks that stand in for a master (fake masters, a fake etcd, a stub). Linked as source
/// into the projects that use it (tests/Shared).
/// </summary>
internal sealed class InProcessGrpcServer : IAsyncDisposable
{
    private readonly WebApplication _app;

    private InProcessGrpcServer(WebApplication app, Uri address)
    {
        _app = app;
        Address = address;
    }

    /// <summary>e.g. http://127.0.0.1:41234/.</summary>
    public Uri Address { get; }

    public int Port => Address.Port;

    /// <summary>Starts serving: <paramref name="services"/> registers the service instances, <paramref name="map"/> maps them.</summary>
    public static async Task<InProcessGrpcServer> StartAsync(Action<IServiceCollection> services, Action<WebApplication> map, Action<GrpcServiceOptions>? grpc = null)
    {
        var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions { Args = [] });
        builder.Logging.ClearProviders();
        builder.WebHost.ConfigureKestrel(k =>
        {
            k.Limits.Http2.MaxStreamsPerConnection = 1000;
            k.Listen(IPAddress.Loopback, 0, l => l.Protocols = HttpProtocols.Http2);
        });
        builder.Services.AddGrpc(o => grpc?.Invoke(o));
        services(builder.Services);
        var app = builder.Build();
        map(app);
        await app.StartAsync();
        var bound = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        return new InProcessGrpcServer(app, new Uri(bound));
    }

    /// <summary>Starts a server for one service instance.</summary>
    public static Task<InProcessGrpcServer> StartAsync<TService>(TService service)
        where TService : class =>
        StartAsync(s => s.AddSingleton(service), app => app.MapGrpcService<TService>());

    public async ValueTask DisposeAsync()
    {
        try
        {
            await _app.StopAsync(CancellationToken.None);
        }
        finally
        {
            await _app.DisposeAsync();
        }
    }
}
