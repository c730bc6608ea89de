using System.Buffers.Binary;
using System.Globalization;
using Google.Protobuf;
using HaMaster.Grpc.Http2;
using HaMaster.Grpc.Tests.Interop;

namespace HaMaster.Grpc.Tests.Http2;

/// <summary>RFC 9113 details of the native HTTP/2 server: more connection and stream errors, padding, HPACK state, windows.</summary>
public sealed class NativeHttp2ConformanceTests : IClassFixture<NativeHttp2Fixture>
{
    private readonly NativeHttp2Fixture _fixture;

    public NativeHttp2ConformanceTests(NativeHttp2Fixture fixture) => _fixture = fixture;

    private int Port => _fixture.Host.Port;

    [Theory]
    [InlineData("window-update-0-on-connection", "ProtocolError")]
    [InlineData("connection-window-overflow", "FlowControlError")]
    [InlineData("window-update-bad-length", "FrameSizeError")]
    [InlineData("window-update-on-idle-stream", "ProtocolError")]
    [InlineData("settings-bad-length", "FrameSizeError")]
    [InlineData("settings-ack-with-payload", "FrameSizeError")]
    [InlineData("settings-on-a-stream", "ProtocolError")]
    [InlineData("enable-push-2", "ProtocolError")]
    [InlineData("initial-window-above-2^31-1", "FlowControlError")]
    [InlineData("max-frame-size-below-16384", "ProtocolError")]
    [InlineData("ping-bad-length", "FrameSizeError")]
    [InlineData("ping-on-a-stream", "ProtocolError")]
    [InlineData("push-promise", "ProtocolError")]
    [InlineData("rst-stream-on-idle-stream", "ProtocolError")]
    [InlineData("rst-stream-bad-length", "FrameSizeError")]
    [InlineData("data-on-idle-stream", "ProtocolError")]
    [InlineData("headers-padding-beyond-payload", "ProtocolError")]
    [InlineData("continuation-on-another-stream", "ProtocolError")]
    [InlineData("header-block-flood", "EnhanceYourCalm")]
    [InlineData("goaway-short", "FrameSizeError")]
    public async Task Connection_error(string scenario, string expected)
    {
        var request = RawHttp2Client.EncodeHeaders(RawHttp2Client.GrpcRequestFields(NativeHttp2ServerTests.EchoPath));
        byte[] bytes = scenario switch
        {
            "window-update-0-on-connection" => RawHttp2Client.BuildFrame(Http2FrameType.WindowUpdate, 0, 0, [0, 0, 0, 0]),
            "connection-window-overflow" => RawHttp2Client.BuildFrame(Http2FrameType.WindowUpdate, 0, 0, [0x7F, 0xFF, 0xFF, 0xFF]),
            "window-update-bad-length" => RawHttp2Client.BuildFrame(Http2FrameType.WindowUpdate, 0, 0, [0, 0, 1]),
            "window-update-on-idle-stream" => RawHttp2Client.BuildFrame(Http2FrameType.WindowUpdate, 0, 9, [0, 0, 1, 0]),
            "settings-bad-length" => RawHttp2Client.BuildFrame(Http2FrameType.Settings, 0, 0, [0, 4, 0, 0, 1]),
            "settings-ack-with-payload" => RawHttp2Client.BuildFrame(Http2FrameType.Settings, Http2Flags.Ack, 0, [0, 4, 0, 0, 1, 0]),
            "settings-on-a-stream" => RawHttp2Client.BuildFrame(Http2FrameType.Settings, 0, 1, []),
            "enable-push-2" => Setting(Http2SettingId.EnablePush, 2),
            "initial-window-above-2^31-1" => Setting(Http2SettingId.InitialWindowSize, 0x8000_0000),
            "max-frame-size-below-16384" => Setting(Http2SettingId.MaxFrameSize, 16383),
            "ping-bad-length" => RawHttp2Client.BuildFrame(Http2FrameType.Ping, 0, 0, new byte[7]),
            "ping-on-a-stream" => RawHttp2Client.BuildFrame(Http2FrameType.Ping, 0, 1, new byte[8]),
            "push-promise" => RawHttp2Client.BuildFrame(Http2FrameType.PushPromise, Http2Flags.EndHeaders, 1, [0, 0, 0, 2, .. request]),
            "rst-stream-on-idle-stream" => RawHttp2Client.BuildFrame(Http2FrameType.RstStream, 0, 5, [0, 0, 0, 8]),
            "rst-stream-bad-length" => RawHttp2Client.BuildFrame(Http2FrameType.RstStream, 0, 1, [0, 0, 8]),
            "data-on-idle-stream" => RawHttp2Client.BuildFrame(Http2FrameType.Data, Http2Flags.EndStream, 1, [0, 0, 0, 0, 0]),
            "headers-padding-beyond-payload" => RawHttp2Client.BuildFrame(Http2FrameType.Headers, Http2Flags.EndHeaders | Http2Flags.Padded, 1, [200, .. request]),
            "continuation-on-another-stream" =>
                [.. RawHttp2Client.BuildFrame(Http2FrameType.Headers, 0, 1, request.AsSpan(0, 4)), .. RawHttp2Client.BuildFrame(Http2FrameType.Continuation, Http2Flags.EndHeaders, 3, request.AsSpan(4))],
            "header-block-flood" => HeaderBlockFlood(),
            "goaway-short" => RawHttp2Client.BuildFrame(Http2FrameType.GoAway, 0, 0, [0, 0, 0, 0]),
            _ => throw new ArgumentOutOfRangeException(nameof(scenario)),
        };

        await NativeHttp2Assert.ConnectionErrorAsync(Port, bytes, Enum.Parse<Http2ErrorCode>(expected));
    }

    [Theory]
    [InlineData("missing-path")]
    [InlineData("missing-method")]
    [InlineData("upper-case-name")]
    [InlineData("connection-header")]
    [InlineData("pseudo-after-regular")]
    [InlineData("unknown-pseudo")]
    [InlineData("repeated-pseudo")]
    public async Task Malformed_request_is_a_stream_error_and_connection_survives(string scenario)
    {
        var fields = RawHttp2Client.GrpcRequestFields(NativeHttp2ServerTests.EchoPath);
        switch (scenario)
        {
            case "missing-path": fields.RemoveAll(f => f.Name == ":path"); break;
            case "missing-method": fields.RemoveAll(f => f.Name == ":method"); break;
            case "upper-case-name": fields.Add(("X-Upper", "1")); break;
            case "connection-header": fields.Add(("connection", "close")); break;
            case "pseudo-after-regular": fields.Add((":authority", "other")); break;
            case "unknown-pseudo": fields.Insert(0, (":protocol", "x")); break;
            case "repeated-pseudo": fields.Insert(0, (":path", "/other")); break;
            default: throw new ArgumentOutOfRangeException(nameof(scenario));
        }

        await using var client = await RawHttp2Client.ConnectAndHandshakeAsync(Port);
        await client.WriteHeadersAsync(1, RawHttp2Client.EncodeHeaders(fields), endStream: true);

        var response = await client.ReadResponseAsync(1);

        Assert.Null(response.Headers);
        Assert.Equal((uint)Http2ErrorCode.ProtocolError, response.ResetCode);
        await NativeHttp2Assert.EchoWorksAsync(client, 3);
    }

    [Fact]
    public async Task Padded_and_prioritised_frames_carry_the_request()
    {
        await using var client = await RawHttp2Client.ConnectAndHandshakeAsync(Port);
        var block = RawHttp2Client.EncodeHeaders(RawHttp2Client.GrpcRequestFields(NativeHttp2ServerTests.EchoPath));
        byte[] padding = [0xAA, 0xBB, 0xCC];

        // HEADERS: pad length, 5 priority bytes, fragment, padding. DATA: pad length, data, padding.
        await client.WriteFrameAsync(Http2FrameType.Headers, Http2Flags.EndHeaders | Http2Flags.Padded | Http2Flags.Priority, 1, [3, 0, 0, 0, 0, 15, .. block, .. padding]);
        var message = RawHttp2Client.GrpcFrame(new EchoRequest { Text = "padded" }.ToByteArray());
        await client.WriteFrameAsync(Http2FrameType.Data, Http2Flags.EndStream | Http2Flags.Padded, 1, [3, .. message, .. padding]);

        var response = await client.ReadResponseAsync(1);

        Assert.Equal("0", response.Trailer("grpc-status"));
        Assert.Equal("padded", EchoReply.Parser.ParseFrom(Assert.Single(RawHttp2Client.GrpcMessages(response.Data.ToArray()))).Text);
    }

    [Fact]
    public async Task Padding_reopens_the_window_in_batches_not_one_window_update_per_frame()
    {
        // A stream of tiny padded DATA frames (1 byte of data, 200 of padding): the window they
        // use is reopened in half-window batches, so 200 frames bring no stream WINDOW_UPDATE at
        // all (40 KB is far under half of the 1 MiB window), not one per frame.
        await using var client = await RawHttp2Client.ConnectAndHandshakeAsync(Port);
        await client.WriteHeadersAsync(1, RawHttp2Client.EncodeHeaders(RawHttp2Client.GrpcRequestFields(FlowService.DrainPath)), endStream: false);
        var padding = new byte[200];
        for (var i = 0; i < 200; i++)
        {
            await client.WriteFrameAsync(Http2FrameType.Data, Http2Flags.Padded, 1, [200, 0, .. padding]);
        }

        await client.WritePingAsync(0x5A5A);
        var updates = 0;
        await client.ReadUntilAsync(
            frame =>
            {
                if (frame.Type == Http2FrameType.WindowUpdate && frame.StreamId == 1)
                {
                    updates++;
                }

                return frame.Type == Http2FrameType.Ping;
            },
            "the PING ACK after the padded frames",
            maxFrames: 1024);

        Assert.Equal(0, updates);
    }

    [Fact]
    public async Task Hpack_dynamic_table_persists_across_requests()
    {
        await using var client = await RawHttp2Client.ConnectAndHandshakeAsync(Port);
        var fields = RawHttp2Client.EncodeHeaders(RawHttp2Client.GrpcRequestFields(NativeHttp2ServerTests.EchoPath));

        // Request 1 adds "x-echo: abc" to the table (literal with incremental indexing, new name) ...
        byte[] indexed = [0x40, 6, .. "x-echo"u8, 3, .. "abc"u8];
        await client.WriteHeadersAsync(1, [.. fields, .. indexed], endStream: false);
        await client.WriteDataAsync(1, RawHttp2Client.GrpcFrame(new EchoRequest { Text = "one" }.ToByteArray()), endStream: true);
        var first = await client.ReadResponseAsync(1);

        // ... request 2 refers to it as dynamic index 62 (0x80 | 62).
        await client.WriteHeadersAsync(3, [.. fields, 0xBE], endStream: false);
        await client.WriteDataAsync(3, RawHttp2Client.GrpcFrame(new EchoRequest { Text = "two" }.ToByteArray()), endStream: true);
        var second = await client.ReadResponseAsync(3);

        Assert.Equal("abc", EchoReply.Parser.ParseFrom(Assert.Single(RawHttp2Client.GrpcMessages(first.Data.ToArray()))).EchoedHeader);
        Assert.Equal("abc", EchoReply.Parser.ParseFrom(Assert.Single(RawHttp2Client.GrpcMessages(second.Data.ToArray()))).EchoedHeader);
    }

    [Fact]
    public async Task Request_trailers_end_the_request()
    {
        await using var client = await RawHttp2Client.ConnectAndHandshakeAsync(Port);
        await client.WriteHeadersAsync(1, RawHttp2Client.EncodeHeaders(RawHttp2Client.GrpcRequestFields(NativeHttp2ServerTests.EchoPath)), endStream: false);
        await client.WriteDataAsync(1, RawHttp2Client.GrpcFrame(new EchoRequest { Text = "with trailers" }.ToByteArray()), endStream: false);
        await client.WriteHeadersAsync(1, RawHttp2Client.EncodeHeaders([("x-request-trailer", "1")]), endStream: true);

        var response = await client.ReadResponseAsync(1);

        Assert.Null(response.ResetCode);
        Assert.Equal("0", response.Trailer("grpc-status"));
        await NativeHttp2Assert.EchoWorksAsync(client, 3);
    }

    [Fact]
    public async Task Pipelined_unary_calls_each_get_a_contiguous_response()
    {
        const int calls = 50;
        await using var client = await RawHttp2Client.ConnectAndHandshakeAsync(Port);
        var batch = new List<byte>();
        for (var i = 0; i < calls; i++)
        {
            var id = (2 * i) + 1;
            batch.AddRange(RawHttp2Client.BuildFrame(Http2FrameType.Headers, Http2Flags.EndHeaders, id, RawHttp2Client.EncodeHeaders(RawHttp2Client.GrpcRequestFields(NativeHttp2ServerTests.EchoPath))));
            var message = RawHttp2Client.GrpcFrame(new EchoRequest { Text = id.ToString(CultureInfo.InvariantCulture) }.ToByteArray());
            batch.AddRange(RawHttp2Client.BuildFrame(Http2FrameType.Data, Http2Flags.EndStream, id, message));
        }

        await client.WriteRawAsync([.. batch]);

        var frames = new Dictionary<int, List<RawFrame>>();
        var ended = 0;
        var previous = 0;
        for (var i = 0; i < calls * 8 && ended < calls; i++)
        {
            var frame = await client.ReadFrameAsync() ?? throw new IOException("connection closed");
            if (frame.StreamId == 0)
            {
                continue;
            }

            Assert.NotEqual(Http2FrameType.RstStream, frame.Type);
            if (frame.StreamId != previous)
            {
                // A unary response is written at once: a stream's frames never interleave with another's.
                Assert.False(frames.ContainsKey(frame.StreamId), $"the response of stream {frame.StreamId} was split");
                frames[frame.StreamId] = [];
                previous = frame.StreamId;
            }

            frames[frame.StreamId].Add(frame);
            if (frame.Has(Http2Flags.EndStream))
            {
                ended++;
            }
        }

        Assert.Equal(calls, ended);
        foreach (var (id, list) in frames)
        {
            Assert.Equal(new[] { Http2FrameType.Headers, Http2FrameType.Data, Http2FrameType.Headers }, list.Select(f => f.Type));
            Assert.Equal("0", RawHttp2Client.FindField(client.DecodeHeaders(list[2].Payload), "grpc-status"));
            var text = EchoReply.Parser.ParseFrom(Assert.Single(RawHttp2Client.GrpcMessages(list[1].Payload))).Text;
            Assert.Equal(id.ToString(CultureInfo.InvariantCulture), text);
        }
    }

    [Fact]
    public async Task Connection_send_window_bounds_all_streams()
    {
        const int count = 10;
        const int size = 10_000;

        // A stream window larger than the response: only the connection's 65535 bytes limit the server.
        await using var client = await RawHttp2Client.ConnectAndHandshakeAsync(Port, (Http2SettingId.InitialWindowSize, 1 << 20));
        await client.SendGrpcRequestAsync(1, FlowService.BlobsPath, new EchoRequest { Text = count.ToString(CultureInfo.InvariantCulture), ReplySize = size }.ToByteArray());

        var (response, _, connectionGrants) = await NativeHttp2Assert.ReadWithinWindowsAsync(client, 1, 1 << 20, Http2FrameHeader.DefaultWindow);

        Assert.True(connectionGrants >= 1, "the response needed more than the initial connection window");
        Assert.Equal("0", response.Trailer("grpc-status"));
        var messages = RawHttp2Client.GrpcMessages(response.Data.ToArray());
        Assert.Equal(count, messages.Count);
        for (var i = 0; i < count; i++)
        {
            Assert.Equal(FlowService.Blob(i, size), EchoReply.Parser.ParseFrom(messages[i]).Payload.ToByteArray());
        }
    }

    [Fact]
    public async Task Raising_initial_window_size_resumes_a_stalled_stream()
    {
        const int window = 1000;
        const int size = 20_000;
        await using var client = await RawHttp2Client.ConnectAndHandshakeAsync(Port, (Http2SettingId.InitialWindowSize, window));
        await client.SendGrpcRequestAsync(1, FlowService.BlobsPath, new EchoRequest { Text = "1", ReplySize = size }.ToByteArray());

        var body = new MemoryStream();
        for (var i = 0; i < 16 && body.Length < window; i++)
        {
            var frame = await client.ReadUntilAsync(f => f.StreamId == 1, "a frame of stream 1");
            if (frame.Type == Http2FrameType.Data)
            {
                body.Write(frame.Payload);
            }
        }

        Assert.Equal(window, body.Length);

        // SETTINGS_INITIAL_WINDOW_SIZE applies to open streams too (RFC 9113 6.9.2): +64535 bytes.
        await client.WriteSettingsAsync((Http2SettingId.InitialWindowSize, Http2FrameHeader.DefaultWindow));
        var response = await client.ReadResponseAsync(1);

        Assert.True(body.Length + response.Data.Length <= Http2FrameHeader.DefaultWindow);
        body.Write(response.Data.ToArray());
        Assert.Equal("0", response.Trailer("grpc-status"));
        Assert.Equal(FlowService.Blob(0, size), EchoReply.Parser.ParseFrom(Assert.Single(RawHttp2Client.GrpcMessages(body.ToArray()))).Payload.ToByteArray());
    }

    [Fact]
    public async Task Client_streaming_beyond_the_stream_window_completes_with_server_window_updates()
    {
        const int messageBytes = 16_000;
        const int messages = 100;
        await using var client = await RawHttp2Client.ConnectAndHandshakeAsync(Port);
        long window = client.ServerSettings[Http2SettingId.InitialWindowSize];
        await client.WriteHeadersAsync(1, RawHttp2Client.EncodeHeaders(RawHttp2Client.GrpcRequestFields(FlowService.DrainPath)), endStream: false);
        var frame = RawHttp2Client.GrpcFrame(new EchoRequest { Payload = ByteString.CopyFrom(new byte[messageBytes]) }.ToByteArray());
        Assert.True((long)frame.Length * messages > window, "the request exceeds the initial stream window");

        var updates = 0;
        for (var i = 0; i < messages; i++)
        {
            // Never send beyond the window the server granted: wait for its WINDOW_UPDATE instead.
            while (window < frame.Length)
            {
                var update = await client.ReadUntilAsync(f => f.Type == Http2FrameType.WindowUpdate && f.StreamId == 1, "WINDOW_UPDATE for stream 1");
                window += update.WindowIncrement;
                updates++;
            }

            await client.WriteDataAsync(1, frame, endStream: false);
            window -= frame.Length;
        }

        await client.WriteDataAsync(1, Array.Empty<byte>(), endStream: true);
        var response = await client.ReadResponseAsync(1);

        Assert.True(updates >= 1);
        Assert.Null(response.ResetCode);
        Assert.Equal("0", response.Trailer("grpc-status"));
        Assert.Equal(((long)messageBytes * messages).ToString(CultureInfo.InvariantCulture), EchoReply.Parser.ParseFrom(Assert.Single(RawHttp2Client.GrpcMessages(response.Data.ToArray()))).Text);
    }

    [Fact]
    public async Task Client_goaway_on_an_idle_connection_closes_it()
    {
        await using var client = await RawHttp2Client.ConnectAndHandshakeAsync(Port);
        await client.WriteFrameAsync(Http2FrameType.GoAway, 0, 0, [0, 0, 0, 0, 0, 0, 0, 0]);

        for (var i = 0; i < 16; i++)
        {
            var frame = await client.ReadFrameAsync();
            if (frame is null)
            {
                return;
            }

            Assert.Equal(0, frame.StreamId);
        }

        Assert.Fail("the server kept the connection open after the client's GOAWAY");
    }

    private static byte[] Setting(ushort id, uint value)
    {
        var payload = new byte[6];
        BinaryPrimitives.WriteUInt16BigEndian(payload, id);
        BinaryPrimitives.WriteUInt32BigEndian(payload.AsSpan(2), value);
        return RawHttp2Client.BuildFrame(Http2FrameType.Settings, 0, 0, payload);
    }

    /// <summary>A header block of 70000 bytes (more than twice the 32 KiB list limit) in CONTINUATION frames.</summary>
    private static byte[] HeaderBlockFlood()
    {
        var block = new byte[70_000];
        var frames = new List<byte>();
        for (var offset = 0; offset < block.Length; offset += 10_000)
        {
            var type = offset == 0 ? Http2FrameType.Headers : Http2FrameType.Continuation;
            var last = offset + 10_000 >= block.Length;
            frames.AddRange(RawHttp2Client.BuildFrame(type, last ? Http2Flags.EndHeaders : (byte)0, 1, block.AsSpan(offset, 10_000)));
        }

        return [.. frames];
    }
}
