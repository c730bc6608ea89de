using Google.Protobuf;
using HaMaster.Grpc.Tests.Interop;

namespace HaMaster.Grpc.Tests;

/// <summary>
/// <see cref="GrpcUnaryConnection"/> against both HTTP/2 servers: the native one (static HPACK,
/// no Huffman) and Kestrel (dynamic table and Huffman in responses), so the client's decoding,
/// flow-control credit and failure handling are exercised against two different encoders.
/// Each test starts its own server on 127.0.0.1:0; clients are disposed before their server.
/// </summary>
public sealed class GrpcUnaryConnectionTests
{
    private const string Prefix = "/" + TestService.Service + "/";
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(30);
    private static readonly TimeSpan CallTimeout = TimeSpan.FromSeconds(20);

    public static TheoryData<GrpcHttp2Server> Servers => new() { GrpcHttp2Server.Native, GrpcHttp2Server.Kestrel };

    [Theory]
    [MemberData(nameof(Servers))]
    public async Task Sequential_calls_on_one_connection_move_more_than_the_connection_window(GrpcHttp2Server kind)
    {
        await using var server = await StartAsync(kind, new TestService());
        using var connection = new GrpcUnaryConnection("127.0.0.1", server.Port);
        await connection.ConnectAsync(CancellationToken.None).AsTask().WaitAsync(Bound);

        // 200 x 100 KB = 20 MB, more than the 16 MiB connection window the client opens, so the
        // calls only all complete if the client returns connection-level credit.
        const int calls = 200;
        const int replySize = 100_000;
        var requestPayload = ByteString.CopyFrom(UnaryConnectionService.Pattern(7, 1000));
        long received = 0;
        for (var i = 0; i < calls; i++)
        {
            var seed = i.ToString(System.Globalization.CultureInfo.InvariantCulture);
            var reply = await CallAsync(connection, UnaryConnectionService.PatternPath, new EchoRequest { Text = seed, ReplySize = replySize, Payload = requestPayload });
            Assert.Equal(seed, reply.Text);
            Assert.True(UnaryConnectionService.Pattern(i, replySize).AsSpan().SequenceEqual(reply.Payload.Span), $"payload of call {i} differs");
            received += reply.Payload.Length;
        }

        Assert.True(received > 16L << 20, $"only {received} bytes moved");
        Assert.True(connection.IsConnected);
    }

    [Theory]
    [MemberData(nameof(Servers))]
    public async Task Echo_returns_the_server_response(GrpcHttp2Server kind)
    {
        await using var server = await StartAsync(kind, new TestService());
        using var connection = new GrpcUnaryConnection("127.0.0.1", server.Port);
        Assert.False(connection.IsConnected);

        var reply = await CallAsync(connection, Prefix + "Echo", new EchoRequest { Text = "hi ✓", Payload = ByteString.CopyFromUtf8("body") });

        Assert.Equal("hi ✓", reply.Text);
        Assert.Equal("body", reply.Payload.ToStringUtf8());
        Assert.True(connection.IsConnected);
    }

    [Theory]
    [MemberData(nameof(Servers))]
    public async Task Response_larger_than_the_stream_window_arrives_intact(GrpcHttp2Server kind)
    {
        await using var server = await StartAsync(kind, new TestService());
        using var connection = new GrpcUnaryConnection("127.0.0.1", server.Port);

        // ~2 MiB: twice the 1 MiB stream window, so the server stalls unless the client credits the stream.
        const int size = (2 << 20) + 12_345;
        for (var seed = 1; seed <= 2; seed++)
        {
            var reply = await CallAsync(connection, UnaryConnectionService.PatternPath, new EchoRequest { Text = seed.ToString(System.Globalization.CultureInfo.InvariantCulture), ReplySize = size });
            Assert.Equal(size, reply.Payload.Length);
            Assert.True(UnaryConnectionService.Pattern(seed, size).AsSpan().SequenceEqual(reply.Payload.Span), $"payload {seed} differs");
        }
    }

    [Theory]
    [MemberData(nameof(Servers))]
    public async Task Server_status_is_reported_with_its_message_and_the_connection_stays_usable(GrpcHttp2Server kind)
    {
        await using var server = await StartAsync(kind, new TestService());
        using var connection = new GrpcUnaryConnection("127.0.0.1", server.Port);

        var notFound = await Assert.ThrowsAsync<GrpcException>(() => CallAsync(connection, Prefix + "Fail", new FailRequest { Code = (int)StatusCode.NotFound, Message = "no such thing" }));
        Assert.Equal(StatusCode.NotFound, notFound.Status);
        Assert.Equal("no such thing", notFound.Detail);

        // Non-ASCII, '%' and a tab travel percent-encoded in grpc-message.
        const string detail = "ünïcödé 100% → 日本語\tdone";
        var failed = await Assert.ThrowsAsync<GrpcException>(() => CallAsync(connection, Prefix + "Fail", new FailRequest { Code = (int)StatusCode.FailedPrecondition, Message = detail }));
        Assert.Equal(StatusCode.FailedPrecondition, failed.Status);
        Assert.Equal(detail, failed.Detail);

        var reply = await CallAsync(connection, Prefix + "Echo", new EchoRequest { Text = "after errors" });
        Assert.Equal("after errors", reply.Text);
    }

    [Theory]
    [MemberData(nameof(Servers))]
    public async Task Deadline_fails_the_call_and_the_next_call_works(GrpcHttp2Server kind)
    {
        var service = new TestService();
        await using var server = await StartAsync(kind, service);
        using var connection = new GrpcUnaryConnection("127.0.0.1", server.Port);

        // The client's deadline and the server's (from grpc-timeout) race: either way the call
        // fails with DEADLINE_EXCEEDED, and whether or not the client dropped the connection the
        // next call must work.
        const string tag = "unary-deadline";
        var ex = await Assert.ThrowsAsync<GrpcException>(() => connection.UnaryAsync(
            Prefix + "Slow", new SlowRequest { DelayMs = 600_000, Tag = tag }, EchoReply.Parser, TimeSpan.FromMilliseconds(200)).AsTask().WaitAsync(Bound));

        Assert.Equal(StatusCode.DeadlineExceeded, ex.Status);
        Assert.NotEqual("completed", await service.Outcome(tag).WaitAsync(Bound));

        var reply = await CallAsync(connection, Prefix + "Echo", new EchoRequest { Text = "reconnected" });
        Assert.Equal("reconnected", reply.Text);
        Assert.True(connection.IsConnected);
    }

    [Theory]
    [MemberData(nameof(Servers))]
    public async Task Call_to_a_stopped_server_is_unavailable(GrpcHttp2Server kind)
    {
        var server = await StartAsync(kind, new TestService());
        using var connection = new GrpcUnaryConnection("127.0.0.1", server.Port);
        try
        {
            Assert.Equal("before", (await CallAsync(connection, Prefix + "Echo", new EchoRequest { Text = "before" })).Text);
        }
        finally
        {
            await server.DisposeAsync().AsTask().WaitAsync(Bound);
        }

        // The open connection was closed by the server (GOAWAY and/or FIN/RST)...
        var onOpen = await Assert.ThrowsAsync<GrpcException>(() => CallAsync(connection, Prefix + "Echo", new EchoRequest { Text = "after" }));
        Assert.Equal(StatusCode.Unavailable, onOpen.Status);
        Assert.False(connection.IsConnected);

        // ...and the reconnect is refused.
        var onReconnect = await Assert.ThrowsAsync<GrpcException>(() => CallAsync(connection, Prefix + "Echo", new EchoRequest { Text = "again" }));
        Assert.Equal(StatusCode.Unavailable, onReconnect.Status);
        Assert.False(connection.IsConnected);
    }

    [Theory]
    [MemberData(nameof(Servers))]
    public async Task Call_in_flight_completes_across_a_graceful_server_shutdown(GrpcHttp2Server kind)
    {
        var unary = new UnaryConnectionService();
        var server = await StartAsync(kind, new TestService(), unary);
        using var connection = new GrpcUnaryConnection("127.0.0.1", server.Port);
        Task? stopping = null;
        try
        {
            // 2 MiB, so the reply needs stream credit (client writes) after the GOAWAY has arrived.
            const int size = 2 << 20;
            var call = CallAsync(connection, UnaryConnectionService.GatedPath, new EchoRequest { Text = "5", ReplySize = size });
            await unary.Started.WaitAsync(Bound);

            // An idle second connection shows when the shutdown's GOAWAY is on the wire; GOAWAY
            // with a last stream id covering the call promises the server will finish it.
            await using (var observer = await Http2.RawHttp2Client.ConnectAndHandshakeAsync(server.Port))
            {
                stopping = server.DisposeAsync().AsTask();
                await observer.ReadUntilAsync(f => f.Type == HaMaster.Grpc.Http2.Http2FrameType.GoAway, "GOAWAY").WaitAsync(Bound);
            }

            unary.Open();
            var reply = await call;
            Assert.Equal(size, reply.Payload.Length);
            Assert.True(UnaryConnectionService.Pattern(5, size).AsSpan().SequenceEqual(reply.Payload.Span));

            // No new stream may start on a connection after GOAWAY: the next call must reconnect.
            Assert.False(connection.IsConnected);
        }
        finally
        {
            unary.Open();
            connection.Dispose();
            await (stopping ?? server.DisposeAsync().AsTask()).WaitAsync(Bound);
        }
    }

    [Theory]
    [MemberData(nameof(Servers))]
    public async Task Concurrent_call_is_rejected_while_one_is_in_flight(GrpcHttp2Server kind)
    {
        var service = new TestService();
        await using var server = await StartAsync(kind, service);
        using var connection = new GrpcUnaryConnection("127.0.0.1", server.Port);

        const string tag = "unary-concurrent";
        var first = CallAsync(connection, Prefix + "Stubborn", new SlowRequest { Tag = tag });
        try
        {
            await service.Started(tag).WaitAsync(Bound);
            await Assert.ThrowsAsync<InvalidOperationException>(() => CallAsync(connection, Prefix + "Echo", new EchoRequest { Text = "second" }));
            Assert.False(first.IsCompleted);
        }
        finally
        {
            service.Release(tag);
        }

        Assert.Equal("too late", (await first).Text);

        // The rejected call did not disturb the connection or the one-call-at-a-time flag.
        Assert.Equal("third", (await CallAsync(connection, Prefix + "Echo", new EchoRequest { Text = "third" })).Text);
    }

    [Theory]
    [MemberData(nameof(Servers))]
    public async Task Response_over_the_receive_limit_is_resource_exhausted(GrpcHttp2Server kind)
    {
        await using var server = await StartAsync(kind, new TestService());
        using var connection = new GrpcUnaryConnection("127.0.0.1", server.Port) { MaxReceiveMessageBytes = 1000 };

        var small = await CallAsync(connection, Prefix + "Echo", new EchoRequest { ReplySize = 900 });
        Assert.Equal(900, small.Payload.Length);

        var ex = await Assert.ThrowsAsync<GrpcException>(() => CallAsync(connection, Prefix + "Echo", new EchoRequest { ReplySize = 5000 }));
        Assert.Equal(StatusCode.ResourceExhausted, ex.Status);

        Assert.Equal("next", (await CallAsync(connection, Prefix + "Echo", new EchoRequest { Text = "next", ReplySize = 10 })).Text);
    }

    [Theory]
    [MemberData(nameof(Servers))]
    public async Task Request_over_one_frame_is_resource_exhausted_and_the_connection_stays_usable(GrpcHttp2Server kind)
    {
        await using var server = await StartAsync(kind, new TestService());
        using var connection = new GrpcUnaryConnection("127.0.0.1", server.Port);
        Assert.Equal("first", (await CallAsync(connection, Prefix + "Echo", new EchoRequest { Text = "first" })).Text);

        var ex = await Assert.ThrowsAsync<GrpcException>(() => CallAsync(connection, Prefix + "Echo", new EchoRequest { Payload = ByteString.CopyFrom(new byte[20_000]) }));
        Assert.Equal(StatusCode.ResourceExhausted, ex.Status);

        // The stream id the refused request took is skipped; the server accepts the next one.
        var reply = await CallAsync(connection, Prefix + "Echo", new EchoRequest { Text = "next", Payload = ByteString.CopyFrom(new byte[15_000]) });
        Assert.Equal("next", reply.Text);
        Assert.Equal(15_000, reply.Payload.Length);
    }

    [Theory]
    [MemberData(nameof(Servers))]
    public async Task Caller_cancellation_is_operation_canceled_not_deadline(GrpcHttp2Server kind)
    {
        var service = new TestService();
        await using var server = await StartAsync(kind, service);
        using var connection = new GrpcUnaryConnection("127.0.0.1", server.Port);
        using var cts = new CancellationTokenSource();

        const string tag = "unary-cancel";
        var call = connection.UnaryAsync(Prefix + "Slow", new SlowRequest { DelayMs = 600_000, Tag = tag }, EchoReply.Parser, CallTimeout, cts.Token).AsTask();
        await service.Started(tag).WaitAsync(Bound);
        await cts.CancelAsync();

        var ex = await Assert.ThrowsAnyAsync<OperationCanceledException>(() => call.WaitAsync(Bound));
        Assert.IsNotType<GrpcException>(ex);
        Assert.False(connection.IsConnected);
        Assert.NotEqual("completed", await service.Outcome(tag).WaitAsync(Bound));

        // An already-cancelled token fails before anything is sent.
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => connection.UnaryAsync(
            Prefix + "Echo", new EchoRequest(), EchoReply.Parser, CallTimeout, cts.Token).AsTask().WaitAsync(Bound));

        Assert.Equal("after", (await CallAsync(connection, Prefix + "Echo", new EchoRequest { Text = "after" })).Text);
    }

    [Theory]
    [MemberData(nameof(Servers))]
    public async Task Header_blocks_that_continue_in_continuation_frames_are_read_whole(GrpcHttp2Server kind)
    {
        // 20,000-character response header and trailer: each block is larger than one 16 KiB
        // frame, and the trailers' END_STREAM rides on HEADERS while the block ends in CONTINUATION.
        await using var server = await GrpcServerHost.StartAsync(
            Http2.FlowService.Register(new TestService().Register(new GrpcServiceRegistry())),
            new GrpcServerHostOptions { Http2Server = kind });
        using var connection = new GrpcUnaryConnection("127.0.0.1", server.Port);

        var big = await CallAsync(connection, Http2.FlowService.BigHeadersPath, new EchoRequest { Text = "big", ReplySize = 20_000 });
        Assert.Equal("big", big.Text);

        // The HPACK state stayed in step: the next call on the same connection decodes cleanly.
        var reply = await CallAsync(connection, Prefix + "Echo", new EchoRequest { Text = "in step" });
        Assert.Equal("in step", reply.Text);
        Assert.True(connection.IsConnected);
    }

    public static TheoryData<string> ServerClosings => new() { "idle", "keep-alive" };

    [Theory]
    [MemberData(nameof(ServerClosings))]
    public async Task A_connection_the_server_closed_between_calls_is_replaced_by_the_next_call(string why)
    {
        // The lean client reads only during a call: it neither sees an idle GOAWAY nor answers a
        // keep-alive PING in between. The next call must still succeed, on a new connection.
        var limits = new HaMaster.Grpc.Http2.Http2ServerLimits { IdleTimeout = Timeout.InfiniteTimeSpan, KeepAlivePingDelay = Timeout.InfiniteTimeSpan };
        limits = why == "idle"
            ? limits with { IdleTimeout = TimeSpan.FromMilliseconds(200) }
            : limits with { KeepAlivePingDelay = TimeSpan.FromMilliseconds(100), KeepAlivePingTimeout = TimeSpan.FromMilliseconds(200) };
        await using var server = await GrpcServerHost.StartAsync(
            new TestService().Register(new GrpcServiceRegistry()),
            new GrpcServerHostOptions { Http2Server = GrpcHttp2Server.Native, Http2Limits = limits });
        using var connection = new GrpcUnaryConnection("127.0.0.1", server.Port);
        for (var round = 1; round <= 3; round++)
        {
            var text = $"{why} {round}";
            Assert.Equal(text, (await CallAsync(connection, Prefix + "Echo", new EchoRequest { Text = text })).Text);
            Assert.Equal(1, server.OpenConnections);

            // Wait (bounded) for the server to give up on the quiet connection.
            var deadline = DateTime.UtcNow + Bound;
            while (server.OpenConnections != 0 && DateTime.UtcNow < deadline)
            {
                await Task.Delay(20);
            }

            Assert.Equal(0, server.OpenConnections);
            Assert.True(connection.IsConnected); // the client has not noticed yet
        }
    }

    private static ValueTask<GrpcServerHost> StartAsync(GrpcHttp2Server kind, TestService service, UnaryConnectionService? unary = null) =>
        GrpcServerHost.StartAsync(
            (unary ?? new UnaryConnectionService()).Register(service.Register(new GrpcServiceRegistry())),
            new GrpcServerHostOptions { Http2Server = kind });

    /// <summary>One call with a generous deadline, bounded so a hang fails the test instead of stalling it.</summary>
    private static Task<EchoReply> CallAsync<TRequest>(GrpcUnaryConnection connection, string method, TRequest request)
        where TRequest : IMessage<TRequest> =>
        connection.UnaryAsync(method, request, EchoReply.Parser, CallTimeout).AsTask().WaitAsync(Bound);
}
