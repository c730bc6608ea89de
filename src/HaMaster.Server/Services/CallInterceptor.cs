using Grpc.Core;
using Grpc.Core.Interceptors;

namespace HaMaster.Server.Services;

/// <summary>
/// A grpc-dotnet server interceptor that treats the four kinds of call alike: each one runs
/// through <see cref="InterceptAsync{T}"/> (streaming calls with a placeholder result). Our
/// cross-cutting concerns (metrics, leader trailer, status mapping, caller identity, rate limit,
/// cluster secret) only look at the call context, never at the messages.
/// </summary>
internal abstract class CallInterceptor : Interceptor
{
    /// <summary>Runs around one call; <paramref name="continuation"/> runs the rest of the pipeline and the handler.</summary>
    protected abstract Task<T> InterceptAsync<T>(ServerCallContext context, Func<Task<T>> continuation);

    public sealed override Task<TResponse> UnaryServerHandler<TRequest, TResponse>(TRequest request, ServerCallContext context, UnaryServerMethod<TRequest, TResponse> continuation) =>
        InterceptAsync(context, () => continuation(request, context));

    public sealed override Task<TResponse> ClientStreamingServerHandler<TRequest, TResponse>(IAsyncStreamReader<TRequest> requestStream, ServerCallContext context, ClientStreamingServerMethod<TRequest, TResponse> continuation) =>
        InterceptAsync(context, () => continuation(requestStream, context));

    public sealed override Task ServerStreamingServerHandler<TRequest, TResponse>(TRequest request, IServerStreamWriter<TResponse> responseStream, ServerCallContext context, ServerStreamingServerMethod<TRequest, TResponse> continuation) =>
        InterceptAsync(context, async () =>
        {
            await continuation(request, responseStream, context).ConfigureAwait(false);
            return true;
        });

    public sealed override Task DuplexStreamingServerHandler<TRequest, TResponse>(IAsyncStreamReader<TRequest> requestStream, IServerStreamWriter<TResponse> responseStream, ServerCallContext context, DuplexStreamingServerMethod<TRequest, TResponse> continuation) =>
        InterceptAsync(context, async () =>
        {
            await continuation(requestStream, responseStream, context).ConfigureAwait(false);
            return true;
        });
}
