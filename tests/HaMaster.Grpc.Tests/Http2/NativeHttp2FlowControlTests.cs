using System.Globalization;
using Google.Protobuf;
using HaMaster.Grpc.Http2;
using HaMaster.Grpc.Tests.Interop;

namespace HaMaster.Grpc.Tests.Http2;

/// <summary>Flow-control corner cases of the native HTTP/2 server, driven by a client that obeys every window exactly.</summary>
public sealed class NativeHttp2FlowControlTests : IClassFixture<NativeHttp2Fixture>
{
    private readonly NativeHttp2Fixture _fixture;

    public NativeHttp2FlowControlTests(NativeHttp2Fixture fixture) => _fixture = fixture;

    private int Port => _fixture.Host.Port;

    [Fact]
    public async Task Request_message_larger_than_the_stream_window_is_received()
    {
        // 1.5 MB in one gRPC message: under the 4 MiB message limit, over the 1 MiB stream window. The server
        // can only complete the message if it reopens the window for bytes it buffered but has not consumed yet.
        const int payloadBytes = 1_500_000;
        await using var client = await RawHttp2Client.ConnectAndHandshakeAsync(Port);
        long window = client.ServerSettings[Http2SettingId.InitialWindowSize];
        await client.WriteHeadersAsync(1, RawHttp2Client.EncodeHeaders(RawHttp2Client.GrpcRequestFields(FlowService.DrainPath)), endStream: false);
        var body = RawHttp2Client.GrpcFrame(new EchoRequest { Payload = ByteString.CopyFrom(new byte[payloadBytes]) }.ToByteArray());
        Assert.True(body.Length > window);

        var sent = 0;
        for (var i = 0; i < 1000 && sent < body.Length; i++)
        {
            if (window == 0)
            {
                var update = await client.ReadUntilAsync(f => f.Type == Http2FrameType.WindowUpdate && f.StreamId == 1, $"WINDOW_UPDATE for stream 1 after {sent} bytes");
                window += update.WindowIncrement;
                continue;
            }

            var chunk = (int)Math.Min(Math.Min(window, Http2FrameHeader.DefaultMaxFrameSize), body.Length - sent);
            await client.WriteDataAsync(1, body.AsMemory(sent, chunk), endStream: sent + chunk == body.Length);
            sent += chunk;
            window -= chunk;
        }

        Assert.Equal(body.Length, sent);
        var response = await client.ReadResponseAsync(1);
        Assert.Equal("0", response.Trailer("grpc-status"));
        Assert.Equal(payloadBytes.ToString(CultureInfo.InvariantCulture), EchoReply.Parser.ParseFrom(Assert.Single(RawHttp2Client.GrpcMessages(response.Data.ToArray()))).Text);
    }

    [Fact]
    public async Task Reset_of_a_stream_waiting_for_window_stops_it_and_frees_the_connection()
    {
        const int window = 1000;
        await using var client = await RawHttp2Client.ConnectAndHandshakeAsync(Port, (Http2SettingId.InitialWindowSize, window));
        await client.SendGrpcRequestAsync(1, FlowService.BlobsPath, new EchoRequest { Text = "50", ReplySize = 3000 }.ToByteArray());

        long received = 0;
        for (var i = 0; i < 16 && received < window; i++)
        {
            var frame = await client.ReadUntilAsync(f => f.StreamId == 1, "a frame of stream 1");
            Assert.NotEqual(Http2FrameType.RstStream, frame.Type);
            if (frame.Type == Http2FrameType.Data)
            {
                received += frame.Payload.Length;
            }
        }

        // The handler is now blocked on the exhausted window; the reset must release it, and nothing more is sent on stream 1.
        await client.WriteRstStreamAsync(1, Http2ErrorCode.Cancel);
        await client.WritePingAsync(42);
        var next = await client.ReadUntilAsync(f => f.Type == Http2FrameType.Ping || f.StreamId == 1, "PING ACK");
        Assert.Equal(Http2FrameType.Ping, next.Type);

        // Stream 3 gets the same small window and works; its frames are not preceded by leftovers of stream 1.
        await client.SendGrpcRequestAsync(3, FlowService.BlobsPath, new EchoRequest { Text = "2", ReplySize = 1500 }.ToByteArray());
        var (response, grants, _) = await NativeHttp2Assert.ReadWithinWindowsAsync(client, 3, window);
        Assert.True(grants >= 2);
        Assert.Equal("0", response.Trailer("grpc-status"));
        Assert.Equal(2, RawHttp2Client.GrpcMessages(response.Data.ToArray()).Count);
    }

    [Fact]
    public async Task Lowering_initial_window_size_to_zero_pauses_an_open_stream()
    {
        await using var client = await RawHttp2Client.ConnectAndHandshakeAsync(Port, (Http2SettingId.InitialWindowSize, 1000));
        await client.SendGrpcRequestAsync(1, FlowService.BlobsPath, new EchoRequest { Text = "1", ReplySize = 20_000 }.ToByteArray());
        var body = new MemoryStream();
        for (var i = 0; i < 16 && body.Length < 1000; i++)
        {
            var frame = await client.ReadUntilAsync(f => f.StreamId == 1, "a frame of stream 1");
            if (frame.Type == Http2FrameType.Data)
            {
                body.Write(frame.Payload);
            }
        }

        // Window 1000 - 1000 = 0; SETTINGS 0 makes it -1000, so a WINDOW_UPDATE of 1000 still leaves nothing to send.
        await client.WriteSettingsAsync((Http2SettingId.InitialWindowSize, 0));
        await client.WriteWindowUpdateAsync(1, 1000);
        await client.WritePingAsync(1);
        var frameAfter = await client.ReadUntilAsync(f => (f.Type == Http2FrameType.Ping && f.Has(Http2Flags.Ack)) || f.StreamId == 1, "PING ACK");
        Assert.Equal(Http2FrameType.Ping, frameAfter.Type);

        // Back to 65535: the stream window is -1000 + 1000 + 65535 = 65535 bytes, enough to finish.
        await client.WriteSettingsAsync((Http2SettingId.InitialWindowSize, Http2FrameHeader.DefaultWindow));
        var response = await client.ReadResponseAsync(1);
        body.Write(response.Data.ToArray());
        Assert.Equal("0", response.Trailer("grpc-status"));
        Assert.Equal(FlowService.Blob(0, 20_000), EchoReply.Parser.ParseFrom(Assert.Single(RawHttp2Client.GrpcMessages(body.ToArray()))).Payload.ToByteArray());
    }

    [Fact]
    public async Task Early_response_resets_the_request_half_and_later_data_is_dropped()
    {
        await using var client = await RawHttp2Client.ConnectAndHandshakeAsync(Port);

        // The server answers an unknown method without reading the body the client is still sending.
        await client.WriteHeadersAsync(1, RawHttp2Client.EncodeHeaders(RawHttp2Client.GrpcRequestFields("/no.such.Service/Method")), endStream: false);
        var response = await client.ReadResponseAsync(1);
        Assert.Equal("12", response.Trailer("grpc-status"));
        var reset = await client.ReadUntilAsync(f => f.StreamId == 1, "RST_STREAM for stream 1");
        Assert.Equal((Http2FrameType.RstStream, (uint)Http2ErrorCode.NoError), (reset.Type, reset.ErrorCode));

        // DATA the client had in flight for the closed stream is discarded, not a connection error.
        await client.WriteDataAsync(1, RawHttp2Client.GrpcFrame(new byte[100]), endStream: true);
        await NativeHttp2Assert.EchoWorksAsync(client, 3);
    }
}
