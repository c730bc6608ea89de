using Google.Protobuf;
using HaMaster.Grpc.Http2;
using HaMaster.Grpc.Tests.Interop;

namespace HaMaster.Grpc.Tests.Http2;

/// <summary>Stream life cycle and multiplexing of the native HTTP/2 server: ids, frame sizes, head-of-line blocking, window accounting.</summary>
public sealed class NativeHttp2StreamStateTests : IClassFixture<NativeHttp2Fixture>
{
    private readonly NativeHttp2Fixture _fixture;

    public NativeHttp2StreamStateTests(NativeHttp2Fixture fixture) => _fixture = fixture;

    private int Port => _fixture.Host.Port;

    [Theory]
    [InlineData(1)] // a stream id already used and closed
    [InlineData(3)] // a new stream id lower than one already opened (RFC 9113 5.1.1)
    public async Task Request_on_a_used_or_lower_stream_id_is_not_silently_dropped(int streamId)
    {
        await using var client = await RawHttp2Client.ConnectAndHandshakeAsync(Port);
        await NativeHttp2Assert.EchoWorksAsync(client, 1);
        await NativeHttp2Assert.EchoWorksAsync(client, 5);

        await client.SendGrpcRequestAsync(streamId, NativeHttp2ServerTests.EchoPath, new EchoRequest { Text = "again" }.ToByteArray());

        // A client waiting for an answer must get one: a stream error or a connection error, never silence.
        var answer = await client.ReadUntilAsync(f => f.StreamId == streamId || f.Type == Http2FrameType.GoAway, $"an answer on stream {streamId}");
        Assert.Contains(answer.Type, new[] { Http2FrameType.GoAway, Http2FrameType.RstStream });
        Assert.Contains((Http2ErrorCode)answer.ErrorCode, new[] { Http2ErrorCode.StreamClosed, Http2ErrorCode.ProtocolError });
    }

    [Fact]
    public async Task Late_headers_on_a_stream_the_server_reset_are_ignored()
    {
        // The server answers an unknown method at once and resets the still-open request
        // (RST_STREAM NO_ERROR); trailers the client sent before that reached it must not cost the
        // connection (RFC 9113 5.4.2), and the HPACK state must stay in step.
        await using var client = await RawHttp2Client.ConnectAndHandshakeAsync(Port);
        var fields = RawHttp2Client.GrpcRequestFields("/" + TestService.Service + "/NoSuchMethod");
        await client.WriteHeadersAsync(1, RawHttp2Client.EncodeHeaders(fields), endStream: false);
        var reset = await client.ReadUntilAsync(f => f.StreamId == 1 && f.Type == Http2FrameType.RstStream, "RST_STREAM of stream 1");
        Assert.Equal(Http2ErrorCode.NoError, (Http2ErrorCode)reset.ErrorCode);

        await client.WriteHeadersAsync(1, RawHttp2Client.EncodeHeaders([("x-late-trailer", "t")]), endStream: true);
        await NativeHttp2Assert.EchoWorksAsync(client, 3);
        await NativeHttp2Assert.EchoWorksAsync(client, 5);
    }

    [Theory]
    [InlineData(0u)] // default 16384
    [InlineData(32768u)]
    public async Task Response_frames_never_exceed_the_client_max_frame_size(uint maxFrameSize)
    {
        const int replyBytes = 100_000;
        var settings = new List<(ushort, uint)> { (Http2SettingId.InitialWindowSize, 1 << 20) };
        if (maxFrameSize != 0)
        {
            settings.Add((Http2SettingId.MaxFrameSize, maxFrameSize));
        }

        // RawHttp2Client checks every frame it reads against the size it advertised.
        await using var client = await RawHttp2Client.ConnectAndHandshakeAsync(Port, [.. settings]);
        await client.SendGrpcRequestAsync(1, NativeHttp2ServerTests.EchoPath, new EchoRequest { Text = "big", ReplySize = replyBytes }.ToByteArray());

        var (response, _, connectionGrants) = await NativeHttp2Assert.ReadWithinWindowsAsync(client, 1, 1 << 20);

        Assert.True(connectionGrants >= 1);
        Assert.True(response.Frames.Count(f => f.Type == Http2FrameType.Data) >= 2);
        Assert.Equal("0", response.Trailer("grpc-status"));
        Assert.Equal(replyBytes, EchoReply.Parser.ParseFrom(Assert.Single(RawHttp2Client.GrpcMessages(response.Data.ToArray()))).Payload.Length);
    }

    [Fact]
    public async Task Stream_stalled_on_its_window_does_not_block_other_streams()
    {
        await using var client = await RawHttp2Client.ConnectAndHandshakeAsync(Port, (Http2SettingId.InitialWindowSize, 1000));
        await client.SendGrpcRequestAsync(1, FlowService.BlobsPath, new EchoRequest { Text = "3", ReplySize = 5000 }.ToByteArray());
        var body = new MemoryStream();
        for (var i = 0; i < 16 && body.Length < 1000; i++)
        {
            var frame = await client.ReadUntilAsync(f => f.StreamId == 1, "a frame of stream 1");
            if (frame.Type == Http2FrameType.Data)
            {
                body.Write(frame.Payload);
            }
        }

        Assert.Equal(1000, body.Length);

        // Stream 1 waits for a WINDOW_UPDATE that only comes at the end; a small call on stream 3 must not wait behind it.
        await NativeHttp2Assert.EchoWorksAsync(client, 3);

        var (rest, _, _) = await NativeHttp2Assert.ReadWithinWindowsAsync(client, 1, 1000, initialStreamLeft: 0, headersAlreadyRead: true);
        Assert.Equal("0", rest.Trailer("grpc-status"));
        body.Write(rest.Data.ToArray());
        var messages = RawHttp2Client.GrpcMessages(body.ToArray());
        Assert.Equal(3, messages.Count);
        for (var m = 0; m < 3; m++)
        {
            Assert.Equal(FlowService.Blob(m, 5000), EchoReply.Parser.ParseFrom(messages[m]).Payload.ToByteArray());
        }
    }

    [Fact]
    public async Task Unknown_settings_are_ignored()
    {
        await using var client = await RawHttp2Client.ConnectAndHandshakeAsync(Port, (0x99, 7), (Http2SettingId.HeaderTableSize, 0));
        await NativeHttp2Assert.EchoWorksAsync(client, 1);
    }

    [Fact]
    public async Task Unread_request_bytes_of_finished_streams_return_to_the_connection_window()
    {
        // Each request's body is never read (unknown method), some of it arrives after the stream ended: 10 MiB in all,
        // more than the 8 MiB connection window, so the client only gets through if the server credits every byte back.
        const int streams = 10;
        const int bytesPerStream = 1 << 20;
        await using var client = await RawHttp2Client.ConnectAndHandshakeAsync(Port);
        long connectionWindow = Http2FrameHeader.DefaultWindow + client.ServerConnectionWindowIncrement;
        var chunk = new byte[Http2FrameHeader.DefaultMaxFrameSize];
        var headers = RawHttp2Client.EncodeHeaders(RawHttp2Client.GrpcRequestFields("/no.such.Service/Method"));
        var updates = 0;
        for (var s = 0; s < streams; s++)
        {
            var id = (2 * s) + 1;
            await client.WriteHeadersAsync(id, headers, endStream: false);
            for (var sent = 0; sent < bytesPerStream; sent += chunk.Length)
            {
                for (var wait = 0; wait < 8 && connectionWindow < chunk.Length; wait++)
                {
                    var update = await client.ReadUntilAsync(f => f.Type == Http2FrameType.WindowUpdate && f.StreamId == 0, $"connection WINDOW_UPDATE on stream {id}", maxFrames: 4096);
                    connectionWindow += update.WindowIncrement;
                    updates++;
                }

                Assert.True(connectionWindow >= chunk.Length, "the connection window did not reopen");
                await client.WriteDataAsync(id, chunk, endStream: sent + chunk.Length >= bytesPerStream);
                connectionWindow -= chunk.Length;
            }
        }

        Assert.True(updates >= 1);
        await NativeHttp2Assert.EchoWorksAsync(client, (2 * streams) + 1);
    }

    [Fact]
    public async Task Many_concurrent_streams_on_one_connection_all_complete()
    {
        const int streams = 100;
        await using var client = await RawHttp2Client.ConnectAndHandshakeAsync(Port);
        for (var i = 0; i < streams; i++)
        {
            var id = (2 * i) + 1;
            await client.SendGrpcRequestAsync(id, FlowService.BlobsPath, new EchoRequest { Text = "3", ReplySize = 100 + i }.ToByteArray());
        }

        var bodies = new Dictionary<int, MemoryStream>();
        var statuses = new Dictionary<int, string?>();
        for (var n = 0; n < streams * 16 && statuses.Count < streams; n++)
        {
            var frame = await client.ReadFrameAsync() ?? throw new IOException("connection closed");
            Assert.NotEqual(Http2FrameType.RstStream, frame.Type);
            Assert.NotEqual(Http2FrameType.GoAway, frame.Type);
            if (frame.Type == Http2FrameType.Data)
            {
                (bodies.TryGetValue(frame.StreamId, out var body) ? body : bodies[frame.StreamId] = new MemoryStream()).Write(frame.Payload);
            }
            else if (frame.Type == Http2FrameType.Headers)
            {
                Assert.True(frame.Has(Http2Flags.EndHeaders));
                var fields = client.DecodeHeaders(frame.Payload);
                if (frame.Has(Http2Flags.EndStream))
                {
                    statuses[frame.StreamId] = RawHttp2Client.FindField(fields, "grpc-status");
                }
            }
        }

        Assert.Equal(streams, statuses.Count);
        for (var i = 0; i < streams; i++)
        {
            var id = (2 * i) + 1;
            Assert.Equal("0", statuses[id]);
            var messages = RawHttp2Client.GrpcMessages(bodies[id].ToArray());
            Assert.Equal(3, messages.Count);
            for (var m = 0; m < 3; m++)
            {
                Assert.Equal(FlowService.Blob(m, 100 + i), EchoReply.Parser.ParseFrom(messages[m]).Payload.ToByteArray());
            }
        }
    }

    [Fact]
    public async Task Large_response_headers_and_trailers_are_split_into_continuation_frames()
    {
        const int size = 40_000;
        await using var client = await RawHttp2Client.ConnectAndHandshakeAsync(Port);
        await client.SendGrpcRequestAsync(1, FlowService.BigHeadersPath, new EchoRequest { Text = "big headers", ReplySize = size }.ToByteArray());

        var response = await client.ReadResponseAsync(1);

        Assert.Null(response.ResetCode);
        Assert.Contains(response.Frames, f => f.Type == Http2FrameType.Continuation);
        Assert.Equal(new string('h', size), response.Header("x-big-header"));
        Assert.Equal(new string('t', size), response.Trailer("x-big-trailer"));
        Assert.Equal("0", response.Trailer("grpc-status"));
        Assert.Equal("big headers", EchoReply.Parser.ParseFrom(Assert.Single(RawHttp2Client.GrpcMessages(response.Data.ToArray()))).Text);
    }

    [Fact]
    public async Task Server_stream_failing_midway_ends_with_status_in_trailers()
    {
        await using var client = await RawHttp2Client.ConnectAndHandshakeAsync(Port);
        var path = "/" + TestService.Service + "/Count";
        await client.SendGrpcRequestAsync(1, path, new CountRequest { Count = 5, FailAfter = 2 }.ToByteArray());

        var response = await client.ReadResponseAsync(1);

        Assert.Null(response.ResetCode);
        Assert.Equal("200", response.Header(":status"));
        Assert.Equal(2, RawHttp2Client.GrpcMessages(response.Data.ToArray()).Count);
        Assert.NotNull(response.Trailers);
        Assert.Equal("10", response.Trailer("grpc-status"));
        Assert.Equal("127.0.0.1:7002", response.Trailer(TestService.LeaderTrailer));
    }

    [Theory]
    [InlineData(0x7FFF_FFFF, "FlowControlError")] // the stream window would pass 2^31-1
    [InlineData(0, "ProtocolError")]
    public async Task Bad_stream_window_update_resets_only_that_stream(int increment, string expected)
    {
        await using var client = await RawHttp2Client.ConnectAndHandshakeAsync(Port);
        var tag = Guid.NewGuid().ToString("N");
        await client.SendGrpcRequestAsync(1, "/" + TestService.Service + "/Slow", new SlowRequest { DelayMs = 600_000, Tag = tag }.ToByteArray());
        await _fixture.Service.Started(tag).WaitAsync(RawHttp2Client.ReadTimeout);

        await client.WriteWindowUpdateAsync(1, increment);

        var reset = await client.ReadUntilAsync(f => f.StreamId == 1 || f.Type == Http2FrameType.GoAway, "RST_STREAM for stream 1");
        Assert.Equal(Http2FrameType.RstStream, reset.Type);
        Assert.Equal(Enum.Parse<Http2ErrorCode>(expected), (Http2ErrorCode)reset.ErrorCode);
        Assert.Equal("client-cancelled", await _fixture.Service.Outcome(tag).WaitAsync(RawHttp2Client.ReadTimeout));
        await NativeHttp2Assert.EchoWorksAsync(client, 3);
    }
}
