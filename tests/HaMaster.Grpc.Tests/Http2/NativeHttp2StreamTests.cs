using System.Buffers.Binary;
using System.Globalization;
using Google.Protobuf;
using HaMaster.Grpc.Http2;
using HaMaster.Grpc.Tests.Interop;

namespace HaMaster.Grpc.Tests.Http2;

/// <summary>Streams of the native HTTP/2 server on the wire: concurrency limit, cancellation, flow control, shutdown.</summary>
public sealed class NativeHttp2StreamTests : IClassFixture<NativeHttp2Fixture>
{
    private const string SlowPath = "/" + TestService.Service + "/Slow";
    private const string StubbornPath = "/" + TestService.Service + "/Stubborn";
    private static readonly TimeSpan Timeout = RawHttp2Client.ReadTimeout;
    private readonly NativeHttp2Fixture _fixture;

    public NativeHttp2StreamTests(NativeHttp2Fixture fixture) => _fixture = fixture;

    private int Port => _fixture.Host.Port;

    [Fact]
    public async Task Stream_beyond_max_concurrent_streams_is_refused()
    {
        var service = new TestService();
        await using var host = await NativeHttp2Fixture.StartAsync(service, maxStreams: 2);
        await using var client = await RawHttp2Client.ConnectAndHandshakeAsync(host.Port);
        Assert.Equal(2u, client.ServerSettings[Http2SettingId.MaxConcurrentStreams]);

        // Two calls that block until cancelled occupy both slots.
        var tags = new[] { Guid.NewGuid().ToString("N"), Guid.NewGuid().ToString("N") };
        await client.SendGrpcRequestAsync(1, SlowPath, new SlowRequest { DelayMs = 600_000, Tag = tags[0] }.ToByteArray());
        await client.SendGrpcRequestAsync(3, SlowPath, new SlowRequest { DelayMs = 600_000, Tag = tags[1] }.ToByteArray());
        await client.SendGrpcRequestAsync(5, SlowPath, new SlowRequest { DelayMs = 600_000, Tag = "refused" }.ToByteArray());

        var reset = await client.ReadUntilAsync(f => f.StreamId != 0, "a frame on a stream");
        Assert.Equal((Http2FrameType.RstStream, 5), (reset.Type, reset.StreamId));
        Assert.Equal((uint)Http2ErrorCode.RefusedStream, reset.ErrorCode);
        Assert.False(service.Started("refused").IsCompleted);

        // The admitted calls are really running; resetting them frees their handlers.
        await Task.WhenAll(service.Started(tags[0]), service.Started(tags[1])).WaitAsync(Timeout);
        await client.WriteRstStreamAsync(1, Http2ErrorCode.Cancel);
        await client.WriteRstStreamAsync(3, Http2ErrorCode.Cancel);
        Assert.Equal("client-cancelled", await service.Outcome(tags[0]).WaitAsync(Timeout));
        Assert.Equal("client-cancelled", await service.Outcome(tags[1]).WaitAsync(Timeout));
    }

    [Fact]
    public async Task Client_reset_cancels_the_handler_and_connection_stays_usable()
    {
        await using var client = await RawHttp2Client.ConnectAndHandshakeAsync(Port);
        var tag = Guid.NewGuid().ToString("N");
        await client.SendGrpcRequestAsync(1, SlowPath, new SlowRequest { DelayMs = 600_000, Tag = tag }.ToByteArray());
        await _fixture.Service.Started(tag).WaitAsync(Timeout);

        await client.WriteRstStreamAsync(1, Http2ErrorCode.Cancel);

        Assert.Equal("client-cancelled", await _fixture.Service.Outcome(tag).WaitAsync(Timeout));
        await client.SendGrpcRequestAsync(3, NativeHttp2ServerTests.EchoPath, new EchoRequest { Text = "next" }.ToByteArray());
        var response = await client.ReadResponseAsync(3);
        Assert.Equal("0", response.Trailer("grpc-status"));

        // Nothing may be sent on the reset stream: a PING round trip flushes what the server had queued.
        await client.WritePingAsync(7);
        var frame = await client.ReadUntilAsync(f => f.Type == Http2FrameType.Ping || f.StreamId == 1, "PING ACK");
        Assert.Equal(Http2FrameType.Ping, frame.Type);
    }

    [Fact]
    public async Task Server_streaming_respects_a_small_client_window()
    {
        const int window = 1000;
        const int count = 4;
        const int size = 3000;
        await using var client = await RawHttp2Client.ConnectAndHandshakeAsync(Port, (Http2SettingId.InitialWindowSize, window));
        await client.SendGrpcRequestAsync(1, FlowService.BlobsPath, new EchoRequest { Text = count.ToString(CultureInfo.InvariantCulture), ReplySize = size }.ToByteArray());

        var (response, grants, _) = await NativeHttp2Assert.ReadWithinWindowsAsync(client, 1, window);

        Assert.True(grants >= (count * size / window) - 1, $"only {grants} WINDOW_UPDATEs were needed");
        Assert.Equal("0", response.Trailer("grpc-status"));
        var messages = RawHttp2Client.GrpcMessages(response.Data.ToArray());
        Assert.Equal(count, messages.Count);
        for (var i = 0; i < count; i++)
        {
            Assert.Equal(FlowService.Blob(i, size), EchoReply.Parser.ParseFrom(messages[i]).Payload.ToByteArray());
        }
    }

    [Fact]
    public async Task Buffered_unary_response_respects_a_small_client_window()
    {
        const int window = 1000;
        await using var client = await RawHttp2Client.ConnectAndHandshakeAsync(Port, (Http2SettingId.InitialWindowSize, window));
        await client.SendGrpcRequestAsync(1, NativeHttp2ServerTests.EchoPath, new EchoRequest { Text = "big", ReplySize = 5000 }.ToByteArray());

        var (response, grants, _) = await NativeHttp2Assert.ReadWithinWindowsAsync(client, 1, window);

        Assert.True(grants >= 4, $"only {grants} WINDOW_UPDATEs were needed");
        Assert.Equal("0", response.Trailer("grpc-status"));
        var reply = EchoReply.Parser.ParseFrom(Assert.Single(RawHttp2Client.GrpcMessages(response.Data.ToArray())));
        Assert.Equal("big", reply.Text);
        Assert.Equal(5000, reply.Payload.Length);
    }

    [Fact]
    public async Task Consumed_request_data_reopens_the_stream_window()
    {
        const int messageBytes = 16_000;
        const int messages = 40;
        await using var client = await RawHttp2Client.ConnectAndHandshakeAsync(Port);
        await client.WriteHeadersAsync(1, RawHttp2Client.EncodeHeaders(RawHttp2Client.GrpcRequestFields(FlowService.DrainPath)), endStream: false);
        var frame = RawHttp2Client.GrpcFrame(new EchoRequest { Payload = ByteString.CopyFrom(new byte[messageBytes]) }.ToByteArray());
        for (var i = 0; i < messages; i++)
        {
            await client.WriteDataAsync(1, frame, endStream: false);
        }

        long sent = (long)frame.Length * messages;
        Assert.True(sent > 1 << 19, "more than half the 1 MiB stream window is sent");

        // The handler consumes as data arrives: the server must reopen the stream window before the request ends.
        var update = await client.ReadUntilAsync(f => f.Type == Http2FrameType.WindowUpdate && f.StreamId == 1, "WINDOW_UPDATE for stream 1");
        Assert.InRange(update.WindowIncrement, 1 << 19, sent);

        await client.WriteDataAsync(1, Array.Empty<byte>(), endStream: true);
        var response = await client.ReadResponseAsync(1);
        Assert.Equal("0", response.Trailer("grpc-status"));
        Assert.Equal((messageBytes * messages).ToString(CultureInfo.InvariantCulture), EchoReply.Parser.ParseFrom(Assert.Single(RawHttp2Client.GrpcMessages(response.Data.ToArray()))).Text);
    }

    [Fact]
    public async Task Shutdown_sends_goaway_no_error_and_lets_the_open_stream_finish()
    {
        var service = new TestService();
        var host = await NativeHttp2Fixture.StartAsync(service);
        var tag = Guid.NewGuid().ToString("N");
        Task? disposal = null;
        try
        {
            await using var client = await RawHttp2Client.ConnectAndHandshakeAsync(host.Port);
            await client.SendGrpcRequestAsync(1, StubbornPath, new SlowRequest { Tag = tag }.ToByteArray());
            await service.Started(tag).WaitAsync(Timeout);

            disposal = host.DisposeAsync().AsTask();
            var goAway = await client.ReadUntilAsync(f => f.Type == Http2FrameType.GoAway, "GOAWAY");
            Assert.Equal((uint)Http2ErrorCode.NoError, goAway.ErrorCode);
            Assert.Equal(1, (int)(BinaryPrimitives.ReadUInt32BigEndian(goAway.Payload) & 0x7FFF_FFFF));

            // A stream opened after GOAWAY is refused; the one under way still completes.
            await client.SendGrpcRequestAsync(3, NativeHttp2ServerTests.EchoPath, new EchoRequest { Text = "late" }.ToByteArray());
            var refused = await client.ReadResponseAsync(3);
            Assert.Equal((uint)Http2ErrorCode.RefusedStream, refused.ResetCode);

            service.Release(tag);
            var response = await client.ReadResponseAsync(1);
            Assert.Equal("0", response.Trailer("grpc-status"));
            Assert.Equal("too late", EchoReply.Parser.ParseFrom(Assert.Single(RawHttp2Client.GrpcMessages(response.Data.ToArray()))).Text);

            // Drained: the server closes the connection and the host stops.
            for (var i = 0; i < 16; i++)
            {
                var next = await client.ReadFrameAsync();
                if (next is null)
                {
                    break;
                }

                Assert.NotEqual(Http2FrameType.Data, next.Type);
                Assert.NotEqual(Http2FrameType.Headers, next.Type);
            }

            await disposal.WaitAsync(TimeSpan.FromSeconds(30));
        }
        finally
        {
            service.Release(tag);
            await (disposal ?? host.DisposeAsync().AsTask()).WaitAsync(TimeSpan.FromSeconds(30));
        }
    }

    [Fact]
    public async Task Shutdown_sends_goaway_no_error_on_an_idle_connection()
    {
        var host = await NativeHttp2Fixture.StartAsync(new TestService());
        Task? disposal = null;
        try
        {
            await using var client = await RawHttp2Client.ConnectAndHandshakeAsync(host.Port);
            disposal = host.DisposeAsync().AsTask();

            var goAway = await client.ReadGoAwayAndCloseAsync();

            Assert.Equal((uint)Http2ErrorCode.NoError, goAway.ErrorCode);
            await disposal.WaitAsync(TimeSpan.FromSeconds(30));
        }
        finally
        {
            await (disposal ?? host.DisposeAsync().AsTask()).WaitAsync(TimeSpan.FromSeconds(30));
        }
    }
}
