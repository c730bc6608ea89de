using HaMaster.Grpc.Http2;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace HaMaster.Grpc;

/// <summary>The HTTP/2 implementation behind a gRPC port.</summary>
public enum GrpcHttp2Server
{
    /// <summary>HaMaster's own HTTP/2 server on Kestrel's socket transport: per-request state lives only as long as the request, idle connections cost no timers.</summary>
    Native,

    /// <summary>ASP.NET Core Kestrel's HTTP/2 with endpoint routing.</summary>
    Kestrel,
}

/// <summary>Routes requests of the native HTTP/2 server to the methods of a <see cref="GrpcServiceRegistry"/>.</summary>
internal static class GrpcNativeDispatch
{
    public static Http2Application Create(GrpcServiceRegistry registry, GrpcServerOptions options, ILogger logger)
    {
        var validated = options.Validate();
        var interceptors = registry.Interceptors.ToArray();
        var methods = registry.Methods.ToDictionary(m => m.Path, StringComparer.Ordinal);
        var known = registry.Methods.Select(m => m.Service).ToHashSet(StringComparer.Ordinal);
        return new Http2Application(
            http =>
            {
                if (!HttpMethods.IsPost(http.Request.Method))
                {
                    http.Response.StatusCode = StatusCodes.Status405MethodNotAllowed;
                    return Task.CompletedTask;
                }

                var path = http.Request.Path.Value ?? string.Empty;
                if (methods.TryGetValue(path, out var method))
                {
                    return GrpcServerCall.ProcessAsync(http, method, validated, interceptors, logger);
                }

                if (!validated.MapUnimplementedFallback)
                {
                    http.Response.StatusCode = StatusCodes.Status404NotFound;
                    return Task.CompletedTask;
                }

                return GrpcServerCall.UnimplementedAsync(http, known);
            },
            // One response message: headers, message and trailers can leave in one write.
            path => methods.TryGetValue(path, out var m) && m.Type is GrpcMethodType.Unary or GrpcMethodType.ClientStreaming);
    }
}
