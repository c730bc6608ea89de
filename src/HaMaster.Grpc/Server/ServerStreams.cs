namespace HaMaster.Grpc;

/// <summary>
/// Writes the messages of a server stream. Each write is flushed (HTTP/2 flow control applies
/// back-pressure). Not thread-safe: one write at a time.
/// </summary>
public interface IServerStreamWriter<in T>
{
    ValueTask WriteAsync(T message, CancellationToken ct = default);
}

/// <summary>
/// The messages of a client stream, pulled by the handler (reading is what opens the HTTP/2
/// flow-control window, so a slow handler slows the client). Enumerate once.
/// </summary>
public interface IAsyncStreamReader<out T> : IAsyncEnumerable<T>
{
}

/// <summary>The rest of the call after an interceptor: the next interceptor, or the method itself.</summary>
public delegate ValueTask GrpcCallContinuation(ServerCallContext context);

/// <summary>
/// Runs around every server call, in registration order (first added = outermost). Throw a
/// <see cref="GrpcException"/> to reject the call (e.g. UNAUTHENTICATED); exceptions thrown by the
/// continuation pass through, so a metrics interceptor can observe them with try/catch.
/// </summary>
public interface IGrpcServerInterceptor
{
    ValueTask InterceptAsync(ServerCallContext context, GrpcCallContinuation continuation);
}
