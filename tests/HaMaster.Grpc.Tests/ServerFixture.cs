namespace HaMaster.Grpc.Tests;

/// <summary>
/// One real Kestrel gRPC server on 127.0.0.1:0 shared by a test class, with 64 KiB message limits
/// (so size tests stay small) and an interceptor that rejects calls carrying "x-reject".
/// </summary>
public sealed class ServerFixture : IAsyncLifetime
{
    public const int ServerLimit = 64 * 1024;

    public TestService Service { get; } = new();

    public RecordingInterceptor Interceptor { get; } = new();

    public GrpcServerHost Host { get; private set; } = null!;

    public GrpcChannel Channel { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        var registry = Service.Register(new GrpcServiceRegistry()).AddInterceptor(Interceptor);
        Host = await GrpcServerHost.StartAsync(registry, new GrpcServerHostOptions
        {
            Server = new GrpcServerOptions { MaxReceiveMessageBytes = ServerLimit, MaxSendMessageBytes = ServerLimit },
        });
        Channel = new GrpcChannel(Host.Address);
    }

    public async Task DisposeAsync()
    {
        Channel.Dispose();
        await Host.DisposeAsync();
    }
}

/// <summary>Records the peer and method of every call; rejects calls with metadata "x-reject".</summary>
public sealed class RecordingInterceptor : IGrpcServerInterceptor
{
    public System.Collections.Concurrent.ConcurrentQueue<(string Method, string Peer, DateTimeOffset? Deadline)> Calls { get; } = new();

    public async ValueTask InterceptAsync(ServerCallContext context, GrpcCallContinuation continuation)
    {
        Calls.Enqueue((context.Method, context.Peer, context.Deadline));
        if (context.RequestHeaders.Get("x-reject") is { } reason)
        {
            throw new GrpcException(StatusCode.PermissionDenied, $"rejected: {reason}");
        }

        context.Items["intercepted"] = true;
        await continuation(context);
    }
}
