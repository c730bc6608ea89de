using System.Runtime.CompilerServices;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace HaMaster.Grpc;

/// <summary>Maps a <see cref="GrpcServiceRegistry"/> onto ASP.NET Core endpoint routing.</summary>
public static class GrpcEndpointExtensions
{
    // One UNIMPLEMENTED fallback per route builder, however many registries are mapped onto it.
    private static readonly ConditionalWeakTable<IEndpointRouteBuilder, HashSet<string>> KnownServices = new();

    /// <summary>
    /// Maps every method of <paramref name="registry"/> (a snapshot) to POST <c>/{service}/{method}</c>,
    /// plus, unless disabled in <paramref name="options"/>, a lowest-priority fallback answering other
    /// two-segment gRPC POSTs with UNIMPLEMENTED. Call it once per registry at startup.
    /// </summary>
    public static IEndpointRouteBuilder MapGrpcServices(this IEndpointRouteBuilder app, GrpcServiceRegistry registry, GrpcServerOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(app);
        ArgumentNullException.ThrowIfNull(registry);
        var validated = (options ?? new GrpcServerOptions()).Validate();
        var logger = app.ServiceProvider.GetService<ILoggerFactory>()?.CreateLogger("HaMaster.Grpc") ?? NullLogger.Instance;
        var interceptors = registry.Interceptors.ToArray();

        var addFallback = false;
        HashSet<string> known;
        lock (KnownServices)
        {
            if (!KnownServices.TryGetValue(app, out known!))
            {
                known = new HashSet<string>(StringComparer.Ordinal);
                KnownServices.Add(app, known);
                addFallback = validated.MapUnimplementedFallback;
            }

            foreach (var method in registry.Methods)
            {
                known.Add(method.Service);
            }
        }

        foreach (var method in registry.Methods.ToArray())
        {
            app.MapPost(method.Path, http => GrpcServerCall.ProcessAsync(http, method, validated, interceptors, logger))
                .WithDisplayName($"gRPC {method.Type} {method.Path}");
        }

        if (addFallback)
        {
            app.MapPost("/{service}/{method}", http =>
                {
                    lock (KnownServices)
                    {
                        return GrpcServerCall.UnimplementedAsync(http, known);
                    }
                })
                .WithDisplayName("gRPC unimplemented method fallback")
                .WithOrder(int.MaxValue);
        }

        return app;
    }
}
