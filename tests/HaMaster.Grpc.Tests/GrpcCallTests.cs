using Google.Protobuf;
using HaMaster.Grpc.Tests.Interop;

namespace HaMaster.Grpc.Tests;

/// <summary>Our client against our server over real HTTP/2 on loopback.</summary>
public sealed class GrpcCallTests : IClassFixture<ServerFixture>
{
    private const string Prefix = "/" + TestService.Service + "/";
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(15);
    private readonly ServerFixture _fixture;

    public GrpcCallTests(ServerFixture fixture) => _fixture = fixture;

    private GrpcChannel Channel => _fixture.Channel;

    [Fact]
    public async Task Unary_echo_returns_message_headers_and_trailers()
    {
        var headers = new Metadata { { "x-echo", "hello-header" } };
        var response = await Channel.UnaryAsync(Prefix + "Echo", new EchoRequest { Text = "hi ✓" }, EchoReply.Parser, new CallOptions { Headers = headers });

        Assert.Equal("hi ✓", response.Message.Text);
        Assert.Equal("hello-header", response.Message.EchoedHeader);
        Assert.Equal("yes", response.Headers.Get("x-response-header"));
        Assert.Equal("127.0.0.1:7001", response.Trailers.Get(TestService.LeaderTrailer));
        Assert.Null(response.Trailers.Get("grpc-status"));
    }

    [Fact]
    public async Task Error_status_carries_percent_encoded_message_and_trailers()
    {
        const string detail = "ünïcödé 100% → done\twith tab";
        var ex = await Assert.ThrowsAsync<GrpcException>(() => Channel.UnaryAsync(
            Prefix + "Fail", new FailRequest { Code = (int)StatusCode.FailedPrecondition, Message = detail }, EchoReply.Parser).AsTask());

        Assert.Equal(StatusCode.FailedPrecondition, ex.Status);
        Assert.Equal(detail, ex.Detail);
        Assert.Equal("127.0.0.1:7001", ex.Trailers.Get(TestService.LeaderTrailer));
        Assert.Equal("requested", ex.Trailers.Get("x-fail-reason"));
    }

    [Theory]
    [InlineData(StatusCode.NotFound)]
    [InlineData(StatusCode.Unavailable)]
    [InlineData(StatusCode.Unauthenticated)]
    public async Task Every_status_code_round_trips(StatusCode code)
    {
        var ex = await Assert.ThrowsAsync<GrpcException>(() => Channel.UnaryAsync(
            Prefix + "Fail", new FailRequest { Code = (int)code, Message = code.ToString() }, EchoReply.Parser).AsTask());
        Assert.Equal(code, ex.Status);
        Assert.Equal(code.ToString(), ex.Detail);
    }

    [Fact]
    public async Task Unexpected_exception_is_internal_with_a_safe_message()
    {
        var ex = await Assert.ThrowsAsync<GrpcException>(() => Channel.UnaryAsync(Prefix + "Crash", new EchoRequest(), EchoReply.Parser).AsTask());
        Assert.Equal(StatusCode.Internal, ex.Status);
        Assert.DoesNotContain("secret", ex.Detail, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Deadline_exceeded_on_client_and_server_sees_its_token_cancelled()
    {
        var tag = Guid.NewGuid().ToString("N");
        var ex = await Assert.ThrowsAsync<GrpcException>(() => Channel.UnaryAsync(
            Prefix + "Slow", new SlowRequest { DelayMs = 30_000, Tag = tag }, EchoReply.Parser, new CallOptions { Timeout = TimeSpan.FromMilliseconds(300) }).AsTask());

        Assert.Equal(StatusCode.DeadlineExceeded, ex.Status);
        var outcome = await _fixture.Service.Outcome(tag).WaitAsync(Bound);
        Assert.True(outcome is "deadline" or "client-cancelled", outcome);
        Assert.Contains(_fixture.Interceptor.Calls, c => c.Method.EndsWith("/Slow", StringComparison.Ordinal) && c.Deadline is not null);
    }

    [Fact]
    public async Task Client_cancellation_reaches_the_server_handler()
    {
        var tag = Guid.NewGuid().ToString("N");
        using var cts = new CancellationTokenSource();
        var call = Channel.UnaryAsync(Prefix + "Slow", new SlowRequest { DelayMs = 30_000, Tag = tag }, EchoReply.Parser, new CallOptions { CancellationToken = cts.Token }).AsTask();
        await _fixture.Service.Started(tag).WaitAsync(Bound);
        await cts.CancelAsync();

        var ex = await Assert.ThrowsAsync<GrpcException>(() => call);
        Assert.Equal(StatusCode.Cancelled, ex.Status);
        Assert.Equal("client-cancelled", await _fixture.Service.Outcome(tag).WaitAsync(Bound));
    }

    [Fact]
    public async Task Server_stream_delivers_all_messages_in_order_then_ok()
    {
        var values = new List<long>();
        await foreach (var n in Channel.ServerStreamingAsync(Prefix + "Count", new CountRequest { Count = 250 }, Number.Parser))
        {
            values.Add(n.Value);
        }

        Assert.Equal(Enumerable.Range(1, 250).Select(i => (long)i), values);
    }

    [Fact]
    public async Task Server_stream_error_after_messages_surfaces_status_and_trailers()
    {
        var values = new List<long>();
        var ex = await Assert.ThrowsAsync<GrpcException>(async () =>
        {
            await foreach (var n in Channel.ServerStreamingAsync(Prefix + "Count", new CountRequest { Count = 10, FailAfter = 3 }, Number.Parser))
            {
                values.Add(n.Value);
            }
        });

        Assert.Equal([1L, 2L, 3L], values);
        Assert.Equal(StatusCode.Aborted, ex.Status);
        Assert.Equal("stopped after 3", ex.Detail);
        Assert.Equal("127.0.0.1:7002", ex.Trailers.Get(TestService.LeaderTrailer));
    }

    [Fact]
    public async Task Abandoning_a_server_stream_cancels_the_handler()
    {
        var tag = Guid.NewGuid().ToString("N");
        await foreach (var n in Channel.ServerStreamingAsync(Prefix + "Count", new CountRequest { Count = 100_000, DelayMs = 5, Tag = tag }, Number.Parser))
        {
            if (n.Value == 2)
            {
                break;
            }
        }

        Assert.Equal("client-cancelled", await _fixture.Service.Outcome(tag).WaitAsync(Bound));
    }

    [Fact]
    public async Task Client_stream_sums_values()
    {
        using var call = Channel.ClientStreaming<Number, SumReply>(Prefix + "Sum", SumReply.Parser);
        for (var i = 1; i <= 100; i++)
        {
            await call.WriteAsync(new Number { Value = i });
        }

        var response = await call.CompleteAsync();
        Assert.Equal(5050, response.Message.Sum);
        Assert.Equal(100, response.Message.Count);
        Assert.Equal("100", response.Trailers.Get("x-count"));
    }

    [Fact]
    public async Task Empty_client_stream_is_fine()
    {
        using var call = Channel.ClientStreaming<Number, SumReply>(Prefix + "Sum", SumReply.Parser);
        var response = await call.CompleteAsync();
        Assert.Equal(0, response.Message.Count);
    }

    [Fact]
    public async Task Oversized_request_is_resource_exhausted_with_size_and_limit()
    {
        var request = new EchoRequest { Payload = ByteString.CopyFrom(new byte[ServerFixture.ServerLimit + 1000]) };
        var ex = await Assert.ThrowsAsync<GrpcException>(() => Channel.UnaryAsync(Prefix + "Echo", request, EchoReply.Parser).AsTask());

        Assert.Equal(StatusCode.ResourceExhausted, ex.Status);
        Assert.Contains(request.CalculateSize().ToString(System.Globalization.CultureInfo.InvariantCulture), ex.Detail, StringComparison.Ordinal);
        Assert.Contains(ServerFixture.ServerLimit.ToString(System.Globalization.CultureInfo.InvariantCulture), ex.Detail, StringComparison.Ordinal);
        await AssertServerStillServes();
    }

    [Fact]
    public async Task Oversized_response_is_resource_exhausted_on_the_server()
    {
        var ex = await Assert.ThrowsAsync<GrpcException>(() => Channel.UnaryAsync(
            Prefix + "Echo", new EchoRequest { ReplySize = ServerFixture.ServerLimit * 2 }, EchoReply.Parser).AsTask());
        Assert.Equal(StatusCode.ResourceExhausted, ex.Status);
        Assert.Contains("Sending message larger than max", ex.Detail, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Client_limits_apply_to_sent_and_received_messages()
    {
        using var small = new GrpcChannel(_fixture.Host.Address, new GrpcChannelOptions { MaxReceiveMessageBytes = 1024, MaxSendMessageBytes = 1024 });

        var received = await Assert.ThrowsAsync<GrpcException>(() => small.UnaryAsync(
            Prefix + "Echo", new EchoRequest { ReplySize = 4096 }, EchoReply.Parser).AsTask());
        Assert.Equal(StatusCode.ResourceExhausted, received.Status);
        Assert.Contains("1024", received.Detail, StringComparison.Ordinal);

        var sent = await Assert.ThrowsAsync<GrpcException>(() => small.UnaryAsync(
            Prefix + "Echo", new EchoRequest { Payload = ByteString.CopyFrom(new byte[4096]) }, EchoReply.Parser).AsTask());
        Assert.Equal(StatusCode.ResourceExhausted, sent.Status);
    }

    [Theory]
    [InlineData("/hamaster.testing.v1.InteropTest/NoSuchMethod", "Method")]
    [InlineData("/no.such.Service/Echo", "Service")]
    public async Task Unknown_method_is_unimplemented(string path, string kind)
    {
        var ex = await Assert.ThrowsAsync<GrpcException>(() => Channel.UnaryAsync(path, new EchoRequest(), EchoReply.Parser).AsTask());
        Assert.Equal(StatusCode.Unimplemented, ex.Status);
        Assert.StartsWith(kind, ex.Detail, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Interceptor_can_reject_and_sees_peer()
    {
        var ex = await Assert.ThrowsAsync<GrpcException>(() => Channel.UnaryAsync(
            Prefix + "Echo", new EchoRequest(), EchoReply.Parser, new CallOptions { Headers = new Metadata { { "x-reject", "no-token" } } }).AsTask());
        Assert.Equal(StatusCode.PermissionDenied, ex.Status);
        Assert.Equal("rejected: no-token", ex.Detail);
        Assert.Contains(_fixture.Interceptor.Calls, c => c.Peer.StartsWith("ipv4:127.0.0.1:", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Hundreds_of_concurrent_calls_share_one_channel()
    {
        const int calls = 500;
        var tasks = Enumerable.Range(0, calls)
            .Select(i => Channel.UnaryAsync(Prefix + "Echo", new EchoRequest { Text = $"m{i}" }, EchoReply.Parser).AsTask())
            .ToArray();
        var responses = await Task.WhenAll(tasks).WaitAsync(TimeSpan.FromSeconds(60));
        Assert.Equal(Enumerable.Range(0, calls).Select(i => $"m{i}"), responses.Select(r => r.Message.Text));
    }

    [Fact]
    public async Task Concurrent_slow_calls_do_not_block_each_other()
    {
        // 300 calls all parked in the handler at once: only possible if the stream limit is well above Kestrel's default 100.
        var tags = Enumerable.Range(0, 300).Select(_ => Guid.NewGuid().ToString("N")).ToArray();
        using var cts = new CancellationTokenSource();
        var tasks = tags.Select(t => Channel.UnaryAsync(Prefix + "Slow", new SlowRequest { DelayMs = 60_000, Tag = t }, EchoReply.Parser, new CallOptions { CancellationToken = cts.Token }).AsTask()).ToArray();
        await Task.WhenAll(tags.Select(_fixture.Service.Started)).WaitAsync(TimeSpan.FromSeconds(30));
        await cts.CancelAsync();
        foreach (var task in tasks)
        {
            var ex = await Assert.ThrowsAsync<GrpcException>(() => task);
            Assert.Equal(StatusCode.Cancelled, ex.Status);
        }
    }

    [Fact]
    public async Task Connection_failure_is_unavailable()
    {
        int port;
        using (var listener = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0))
        {
            listener.Start();
            port = ((System.Net.IPEndPoint)listener.LocalEndpoint).Port;
        }

        using var channel = new GrpcChannel(new Uri($"http://127.0.0.1:{port}"));
        var ex = await Assert.ThrowsAsync<GrpcException>(() => channel.UnaryAsync(Prefix + "Echo", new EchoRequest(), EchoReply.Parser).AsTask());
        Assert.Equal(StatusCode.Unavailable, ex.Status);
    }

    [Fact]
    public async Task Http_404_without_grpc_status_maps_to_unimplemented()
    {
        await using var bare = await GrpcServerHost.StartAsync(new GrpcServiceRegistry(), new GrpcServerHostOptions { Server = new GrpcServerOptions { MapUnimplementedFallback = false } });
        using var channel = new GrpcChannel(bare.Address);
        var ex = await Assert.ThrowsAsync<GrpcException>(() => channel.UnaryAsync(Prefix + "Echo", new EchoRequest(), EchoReply.Parser).AsTask());
        Assert.Equal(StatusCode.Unimplemented, ex.Status);
        Assert.Contains("404", ex.Detail, StringComparison.Ordinal);
    }

    private async Task AssertServerStillServes()
    {
        var response = await Channel.UnaryAsync(Prefix + "Echo", new EchoRequest { Text = "still here" }, EchoReply.Parser);
        Assert.Equal("still here", response.Message.Text);
    }
}
