using Google.Protobuf;
using HaMaster.Grpc.Http2;
using HaMaster.Grpc.Tests.Interop;

namespace HaMaster.Grpc.Tests.Http2;

/// <summary>The native HTTP/2 server on the wire: handshake, a unary call frame by frame, and connection errors.</summary>
public sealed class NativeHttp2ServerTests : IClassFixture<NativeHttp2Fixture>
{
    internal const string EchoPath = "/" + TestService.Service + "/Echo";
    private readonly NativeHttp2Fixture _fixture;

    public NativeHttp2ServerTests(NativeHttp2Fixture fixture) => _fixture = fixture;

    private int Port => _fixture.Host.Port;

    [Fact]
    public async Task Handshake_advertises_limits_acks_settings_and_answers_ping()
    {
        await using var client = await RawHttp2Client.ConnectAndHandshakeAsync(Port);

        Assert.Equal(2000u, client.ServerSettings[Http2SettingId.MaxConcurrentStreams]);
        Assert.Equal(1u << 20, client.ServerSettings[Http2SettingId.InitialWindowSize]);
        Assert.Equal(32u << 10, client.ServerSettings[Http2SettingId.MaxHeaderListSize]);
        Assert.Equal((8 << 20) - Http2FrameHeader.DefaultWindow, client.ServerConnectionWindowIncrement);

        // A PING ACK from the client is not answered; the PING after it is, with its own payload.
        await client.WriteFrameAsync(Http2FrameType.Ping, Http2Flags.Ack, 0, [9, 9, 9, 9, 9, 9, 9, 9]);
        await client.WritePingAsync(0x0102030405060708);
        var ack = await client.ReadUntilAsync(f => f.Type == Http2FrameType.Ping, "PING ACK");
        Assert.True(ack.Has(Http2Flags.Ack));
        Assert.Equal(0, ack.StreamId);
        Assert.Equal(new byte[] { 1, 2, 3, 4, 5, 6, 7, 8 }, ack.Payload);
    }

    [Fact]
    public async Task Unary_call_is_headers_data_and_trailers()
    {
        await using var client = await RawHttp2Client.ConnectAndHandshakeAsync(Port);
        await client.SendGrpcRequestAsync(1, EchoPath, new EchoRequest { Text = "hello" }.ToByteArray(), ("x-echo", "abc"));

        var response = await client.ReadResponseAsync(1);

        Assert.Null(response.ResetCode);
        Assert.Collection(
            response.Frames,
            f => Assert.Equal((Http2FrameType.Headers, Http2Flags.EndHeaders), (f.Type, f.Flags)),
            f => Assert.Equal((Http2FrameType.Data, (byte)0), (f.Type, f.Flags)),
            f => Assert.Equal((Http2FrameType.Headers, (byte)(Http2Flags.EndHeaders | Http2Flags.EndStream)), (f.Type, f.Flags)));
        Assert.Equal("200", response.Header(":status"));
        Assert.Equal("application/grpc", response.Header("content-type"));
        Assert.Equal("yes", response.Header("x-response-header"));
        Assert.NotNull(response.Trailers);
        Assert.Equal("0", response.Trailer("grpc-status"));
        Assert.Equal("127.0.0.1:7001", response.Trailer(TestService.LeaderTrailer));

        var message = Assert.Single(RawHttp2Client.GrpcMessages(response.Data.ToArray()));
        var reply = EchoReply.Parser.ParseFrom(message);
        Assert.Equal("hello", reply.Text);
        Assert.Equal("abc", reply.EchoedHeader);
    }

    [Fact]
    public async Task Unknown_method_gets_trailers_only_unimplemented()
    {
        await using var client = await RawHttp2Client.ConnectAndHandshakeAsync(Port);
        await client.SendGrpcRequestAsync(1, "/" + TestService.Service + "/NoSuchMethod", []);

        var response = await client.ReadResponseAsync(1);

        var only = Assert.Single(response.Frames);
        Assert.Equal(Http2FrameType.Headers, only.Type);
        Assert.True(only.Has(Http2Flags.EndStream) && only.Has(Http2Flags.EndHeaders));
        Assert.Null(response.Trailers);
        Assert.Equal("200", response.Header(":status"));
        Assert.Equal("application/grpc", response.Header("content-type"));
        Assert.Equal("12", response.Header("grpc-status"));
    }

    [Fact]
    public async Task Frame_over_max_frame_size_is_frame_size_error()
    {
        // Only the 9-byte header: the declared length alone must end the connection.
        await AssertConnectionErrorAsync(RawHttp2Client.BuildFrame(Http2FrameType.Data, 0, 1, [], declaredLength: 16385), Http2ErrorCode.FrameSizeError);
    }

    [Fact]
    public async Task Data_on_stream_zero_is_protocol_error()
    {
        await AssertConnectionErrorAsync(RawHttp2Client.BuildFrame(Http2FrameType.Data, 0, 0, [1, 2, 3]), Http2ErrorCode.ProtocolError);
    }

    [Fact]
    public async Task Even_numbered_client_stream_is_protocol_error()
    {
        var block = RawHttp2Client.EncodeHeaders(RawHttp2Client.GrpcRequestFields(EchoPath));
        await AssertConnectionErrorAsync(
            RawHttp2Client.BuildFrame(Http2FrameType.Headers, Http2Flags.EndHeaders | Http2Flags.EndStream, 2, block),
            Http2ErrorCode.ProtocolError);
    }

    [Fact]
    public async Task Continuation_without_headers_is_protocol_error()
    {
        var block = RawHttp2Client.EncodeHeaders(RawHttp2Client.GrpcRequestFields(EchoPath));
        await AssertConnectionErrorAsync(RawHttp2Client.BuildFrame(Http2FrameType.Continuation, Http2Flags.EndHeaders, 1, block), Http2ErrorCode.ProtocolError);
    }

    [Fact]
    public async Task Other_frame_inside_a_header_block_is_protocol_error()
    {
        var block = RawHttp2Client.EncodeHeaders(RawHttp2Client.GrpcRequestFields(EchoPath));
        var headersWithoutEnd = RawHttp2Client.BuildFrame(Http2FrameType.Headers, 0, 1, block);
        var ping = RawHttp2Client.BuildFrame(Http2FrameType.Ping, 0, 0, new byte[8]);
        await AssertConnectionErrorAsync([.. headersWithoutEnd, .. ping], Http2ErrorCode.ProtocolError);
    }

    [Fact]
    public async Task Undecodable_hpack_is_compression_error()
    {
        // 0x80: indexed field with index 0, which RFC 7541 forbids.
        await AssertConnectionErrorAsync(
            RawHttp2Client.BuildFrame(Http2FrameType.Headers, Http2Flags.EndHeaders | Http2Flags.EndStream, 1, [0x80]),
            Http2ErrorCode.CompressionError);
    }

    [Fact]
    public async Task First_frame_other_than_settings_is_protocol_error()
    {
        await using var client = await RawHttp2Client.ConnectAsync(Port);
        await client.WriteRawAsync([.. RawHttp2Client.Preface, .. RawHttp2Client.BuildFrame(Http2FrameType.Ping, 0, 0, new byte[8])]);

        var goAway = await client.ReadGoAwayAndCloseAsync();

        Assert.Equal((uint)Http2ErrorCode.ProtocolError, goAway.ErrorCode);
    }

    [Fact]
    public async Task Http1_request_instead_of_preface_closes_the_connection()
    {
        await using var client = await RawHttp2Client.ConnectAsync(Port);
        await client.WriteRawAsync("GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"u8.ToArray());

        // Whatever the server answers (nothing, or an HTTP/1.1 error), it closes the connection.
        await client.ReadUntilClosedAsync();
        await AssertServerStillServesAsync();
    }

    [Fact]
    public async Task Short_http1_request_instead_of_preface_closes_the_connection()
    {
        // 18 bytes, fewer than the 24 of the preface: the mismatch is already certain, the client waits for an answer.
        await using var client = await RawHttp2Client.ConnectAsync(Port);
        await client.WriteRawAsync("GET / HTTP/1.1\r\n\r\n"u8.ToArray());

        await client.ReadUntilClosedAsync();
    }

    [Fact]
    public async Task Unknown_frame_types_and_priority_frames_are_ignored()
    {
        await using var client = await RawHttp2Client.ConnectAndHandshakeAsync(Port);
        await client.WriteFrameAsync((Http2FrameType)0xEE, 0xFF, 0, [1, 2, 3, 4, 5, 6, 7]);
        await client.WriteFrameAsync((Http2FrameType)0xEE, 0, 1, [9]);
        await client.WriteFrameAsync(Http2FrameType.Priority, 0, 1, [0, 0, 0, 0, 16]);
        await client.WriteFrameAsync(Http2FrameType.Priority, 0, 7, [0, 0, 0, 1, 200]);

        await client.SendGrpcRequestAsync(1, EchoPath, new EchoRequest { Text = "still here" }.ToByteArray());
        var response = await client.ReadResponseAsync(1);

        Assert.Equal("0", response.Trailer("grpc-status"));
        Assert.Equal("still here", EchoReply.Parser.ParseFrom(Assert.Single(RawHttp2Client.GrpcMessages(response.Data.ToArray()))).Text);
    }

    [Theory]
    [InlineData(2, 20_000)] // each value under the limit, the list over it
    [InlineData(1, 40_000)] // one value alone over the limit
    public async Task Oversized_request_headers_get_resource_exhausted_and_connection_survives(int values, int valueLength)
    {
        await using var client = await RawHttp2Client.ConnectAndHandshakeAsync(Port);
        var metadata = Enumerable.Range(0, values).Select(i => ($"x-big-{i}", new string('q', valueLength))).ToArray();
        var block = RawHttp2Client.EncodeHeaders(RawHttp2Client.GrpcRequestFields(EchoPath, metadata));
        Assert.True(block.Length > 2 * 10_000, $"the block of {block.Length} bytes needs several CONTINUATION frames");

        await client.WriteHeadersAsync(1, block, endStream: false, maxFragment: 10_000);
        await client.WriteDataAsync(1, RawHttp2Client.GrpcFrame(new EchoRequest { Text = "big" }.ToByteArray()), endStream: true);
        var rejected = await client.ReadResponseAsync(1);

        Assert.Null(rejected.ResetCode);
        Assert.Equal("8", rejected.Trailer("grpc-status"));
        Assert.Contains("32768", rejected.Trailer("grpc-message"), StringComparison.Ordinal);

        await client.SendGrpcRequestAsync(3, EchoPath, new EchoRequest { Text = "after" }.ToByteArray());
        var next = await client.ReadResponseAsync(3);
        Assert.Equal("0", next.Trailer("grpc-status"));
        Assert.Equal("after", EchoReply.Parser.ParseFrom(Assert.Single(RawHttp2Client.GrpcMessages(next.Data.ToArray()))).Text);
    }

    private Task AssertConnectionErrorAsync(byte[] bytes, Http2ErrorCode expected) => NativeHttp2Assert.ConnectionErrorAsync(Port, bytes, expected);

    private Task AssertServerStillServesAsync() => NativeHttp2Assert.ServerStillServesAsync(Port);
}
