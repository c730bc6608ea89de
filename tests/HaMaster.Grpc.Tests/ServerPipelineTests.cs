using HaMaster.Grpc.Tests.Interop;

namespace HaMaster.Grpc.Tests;

/// <summary>Interceptor chain semantics: order, shared per-call items, trailers added on the way out.</summary>
public sealed class ServerPipelineTests
{
    private sealed class OrderInterceptor(string name, List<string> log) : IGrpcServerInterceptor
    {
        public async ValueTask InterceptAsync(ServerCallContext context, GrpcCallContinuation continuation)
        {
            lock (log)
            {
                log.Add($"{name}:in");
            }

            context.Items[name] = true;
            try
            {
                await continuation(context);
            }
            finally
            {
                // Like the master's leader-trailer interceptor: trailers added after the handler, success or failure.
                context.ResponseTrailers.Add($"x-{name}", "out");
                lock (log)
                {
                    log.Add($"{name}:out");
                }
            }
        }
    }

    [Fact]
    public async Task Interceptors_run_in_order_share_items_and_add_trailers_on_success_and_failure()
    {
        var log = new List<string>();
        var registry = new GrpcServiceRegistry()
            .AddInterceptor(new OrderInterceptor("outer", log))
            .AddInterceptor(new OrderInterceptor("inner", log))
            .AddUnary<EchoRequest, EchoReply>("t.Svc", "Items", EchoRequest.Parser, (request, context) =>
            {
                lock (log)
                {
                    log.Add("handler");
                }

                if (request.Text == "fail")
                {
                    throw new GrpcException(StatusCode.NotFound, "nope");
                }

                return ValueTask.FromResult(new EchoReply { Text = string.Join(',', context.Items.Keys.OrderBy(k => k.ToString(), StringComparer.Ordinal)) });
            });
        await using var host = await GrpcServerHost.StartAsync(registry);
        using var channel = new GrpcChannel(host.Address);

        var ok = await channel.UnaryAsync("/t.Svc/Items", new EchoRequest(), EchoReply.Parser);
        Assert.Equal("inner,outer", ok.Message.Text);
        Assert.Equal(["outer:in", "inner:in", "handler", "inner:out", "outer:out"], log);
        Assert.Equal("out", ok.Trailers.Get("x-outer"));
        Assert.Equal("out", ok.Trailers.Get("x-inner"));

        var ex = await Assert.ThrowsAsync<GrpcException>(() => channel.UnaryAsync("/t.Svc/Items", new EchoRequest { Text = "fail" }, EchoReply.Parser).AsTask());
        Assert.Equal(StatusCode.NotFound, ex.Status);
        Assert.Equal("out", ex.Trailers.Get("x-outer"));
        Assert.Equal("out", ex.Trailers.Get("x-inner"));
    }

    [Fact]
    public void Registry_rejects_duplicate_and_malformed_methods()
    {
        var registry = new GrpcServiceRegistry().AddUnary<EchoRequest, EchoReply>("a.B", "C", EchoRequest.Parser, (_, _) => ValueTask.FromResult(new EchoReply()));
        Assert.Throws<ArgumentException>(() => registry.AddUnary<EchoRequest, EchoReply>("a.B", "C", EchoRequest.Parser, (_, _) => ValueTask.FromResult(new EchoReply())));
        Assert.Throws<ArgumentException>(() => registry.AddUnary<EchoRequest, EchoReply>("a/B", "C", EchoRequest.Parser, (_, _) => ValueTask.FromResult(new EchoReply())));
        Assert.Equal("/a.B/C", Assert.Single(registry.Methods).Path);
    }
}
