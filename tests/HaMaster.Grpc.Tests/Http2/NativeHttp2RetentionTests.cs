using System.Runtime.CompilerServices;
using HaMaster.Grpc.Tests.Interop;

namespace HaMaster.Grpc.Tests.Http2;

/// <summary>
/// An idle connection must not keep its last request alive: with clients that call every few
/// seconds on their own connection, anything a connection holds from one request to the next is
/// promoted by the collector and makes every collection slower.
/// </summary>
public sealed class NativeHttp2RetentionTests
{
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(10);

    [Fact]
    public async Task A_finished_request_is_not_reachable_from_its_idle_connection()
    {
        var seen = new TaskCompletionSource<WeakReference[]>(TaskCreationOptions.RunContinuationsAsynchronously);
        var registry = new GrpcServiceRegistry().AddUnary<EchoRequest, EchoReply>("retention.Test", "Echo", EchoRequest.Parser, (request, context) =>
        {
            seen.TrySetResult(Track(context));
            return ValueTask.FromResult(new EchoReply { Text = request.Text });
        });
        await using var server = await GrpcServerHost.StartAsync(registry, new GrpcServerHostOptions { Http2Server = GrpcHttp2Server.Native });
        using var connection = new GrpcUnaryConnection("127.0.0.1", server.Port);

        var reply = await connection.UnaryAsync("/retention.Test/Echo", new EchoRequest { Text = "once" }, EchoReply.Parser, Bound).AsTask().WaitAsync(Bound);
        Assert.Equal("once", reply.Text);
        Assert.True(connection.IsConnected);
        var tracked = await seen.Task.WaitAsync(Bound);

        // The server finishes the stream just after the client has the answer: poll (bounded) for
        // the collector to find the request's objects unreachable while the connection stays open.
        var deadline = DateTime.UtcNow + Bound;
        while (tracked.Any(w => w.IsAlive) && DateTime.UtcNow < deadline)
        {
            GC.Collect();
            GC.WaitForPendingFinalizers();
            await Task.Delay(20);
        }

        Assert.All(tracked, w => Assert.False(w.IsAlive));
        Assert.True(connection.IsConnected);
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static WeakReference[] Track(ServerCallContext context) =>
    [
        new(context.HttpContext),
        new(context.HttpContext.Request.Headers),
        new(context.RequestHeaders),
    ];
}
