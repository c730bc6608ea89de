using System.Buffers.Binary;
using System.Diagnostics;
using Google.Protobuf;
using HaMaster.Grpc.Http2;
using HaMaster.Grpc.Tests.Interop;

namespace HaMaster.Grpc.Tests.Http2;

/// <summary>
/// The native server's connection timeouts: a connection that never speaks HTTP/2 is closed, an
/// idle one is sent GOAWAY, and a client that stops answering keep-alive PINGs is dropped; a
/// connection that is busy, or merely quiet but answering, is left alone.
/// </summary>
public sealed class NativeHttp2TimeoutTests
{
    private static readonly Http2ServerLimits NoTimeouts = new()
    {
        IdleTimeout = Timeout.InfiniteTimeSpan,
        KeepAlivePingDelay = Timeout.InfiniteTimeSpan,
    };

    private static ValueTask<GrpcServerHost> StartAsync(Http2ServerLimits limits) =>
        GrpcServerHost.StartAsync(
            FlowService.Register(new TestService().Register(new GrpcServiceRegistry())),
            new GrpcServerHostOptions { Http2Server = GrpcHttp2Server.Native, Http2Limits = limits });

    private static ValueTask<GrpcServerHost> StartWithKeepAliveAsync(int delayMs, int timeoutMs) =>
        StartAsync(NoTimeouts with { KeepAlivePingDelay = TimeSpan.FromMilliseconds(delayMs), KeepAlivePingTimeout = TimeSpan.FromMilliseconds(timeoutMs) });

    [Fact]
    public async Task A_connection_that_never_sends_the_preface_is_closed_after_the_handshake_timeout()
    {
        await using var server = await StartAsync(NoTimeouts with { HandshakeTimeout = TimeSpan.FromMilliseconds(300) });
        var watch = Stopwatch.StartNew();
        await using var silent = await RawHttp2Client.ConnectAsync(server.Port);
        Assert.Equal(0, await silent.ReadUntilClosedAsync());
        Assert.True(watch.Elapsed >= TimeSpan.FromMilliseconds(250), $"closed after {watch.ElapsedMilliseconds} ms, before the timeout");

        // Half a preface is no better than none.
        await using var slow = await RawHttp2Client.ConnectAsync(server.Port);
        await slow.WriteRawAsync(RawHttp2Client.Preface[..10].ToArray());
        Assert.Equal(0, await slow.ReadUntilClosedAsync());

        await NativeHttp2Assert.ServerStillServesAsync(server.Port);
    }

    [Fact]
    public async Task An_idle_connection_is_sent_GOAWAY_NO_ERROR_naming_its_last_stream_and_closed()
    {
        await using var server = await StartAsync(NoTimeouts with { IdleTimeout = TimeSpan.FromMilliseconds(300) });
        await using var client = await RawHttp2Client.ConnectAndHandshakeAsync(server.Port);
        await NativeHttp2Assert.EchoWorksAsync(client, 1);
        await NativeHttp2Assert.EchoWorksAsync(client, 3);

        var goAway = await client.ReadGoAwayAndCloseAsync();
        Assert.Equal(Http2ErrorCode.NoError, (Http2ErrorCode)goAway.ErrorCode);
        Assert.Equal(3, (int)BinaryPrimitives.ReadUInt32BigEndian(goAway.Payload) & 0x7FFF_FFFF);
    }

    [Fact]
    public async Task A_connection_with_a_stream_open_longer_than_the_idle_timeout_is_not_idle()
    {
        var idle = TimeSpan.FromMilliseconds(200);
        await using var server = await StartAsync(NoTimeouts with { IdleTimeout = idle });
        await using var client = await RawHttp2Client.ConnectAndHandshakeAsync(server.Port);

        // A client-streaming call left open (a Raft peer stream is one) for five idle timeouts.
        await client.WriteHeadersAsync(1, RawHttp2Client.EncodeHeaders(RawHttp2Client.GrpcRequestFields(FlowService.DrainPath)), endStream: false);
        await client.WriteDataAsync(1, RawHttp2Client.GrpcFrame(new EchoRequest { Payload = ByteString.CopyFrom(new byte[100]) }.ToByteArray()), endStream: false);
        await Task.Delay(idle * 5);
        await client.WriteDataAsync(1, RawHttp2Client.GrpcFrame(new EchoRequest { Payload = ByteString.CopyFrom(new byte[23]) }.ToByteArray()), endStream: true);

        var response = await client.ReadResponseAsync(1);
        Assert.Null(response.ResetCode);
        Assert.Equal("0", response.Trailer("grpc-status"));
        Assert.Equal("123", EchoReply.Parser.ParseFrom(Assert.Single(RawHttp2Client.GrpcMessages(response.Data.ToArray()))).Text);

        // Once it ended, the connection is idle and goes.
        var goAway = await client.ReadGoAwayAndCloseAsync();
        Assert.Equal(Http2ErrorCode.NoError, (Http2ErrorCode)goAway.ErrorCode);
    }

    [Fact]
    public async Task A_client_that_stops_answering_keep_alive_pings_is_dropped()
    {
        await using var server = await StartWithKeepAliveAsync(delayMs: 200, timeoutMs: 300);
        await using var client = await RawHttp2Client.ConnectAndHandshakeAsync(server.Port);
        var ping = await client.ReadUntilAsync(f => f.Type == Http2FrameType.Ping, "keep-alive PING");
        Assert.False(ping.Has(Http2Flags.Ack));
        Assert.Equal(0, ping.StreamId);

        // No answer: the server gives up on the connection (no GOAWAY is owed to a dead peer).
        Assert.Equal(0, await client.ReadUntilClosedAsync());
        await NativeHttp2Assert.ServerStillServesAsync(server.Port);
    }

    [Fact]
    public async Task A_quiet_client_that_answers_pings_keeps_its_connection()
    {
        await using var server = await StartWithKeepAliveAsync(delayMs: 100, timeoutMs: 300);
        await using var client = await RawHttp2Client.ConnectAndHandshakeAsync(server.Port);
        for (var i = 0; i < 4; i++)
        {
            var ping = await client.ReadUntilAsync(f => f.Type == Http2FrameType.Ping && !f.Has(Http2Flags.Ack), $"keep-alive PING {i + 1}");
            await client.WriteFrameAsync(Http2FrameType.Ping, Http2Flags.Ack, 0, ping.Payload);
        }

        await NativeHttp2Assert.EchoWorksAsync(client, 1);
    }

    [Fact]
    public async Task A_response_starved_of_window_is_reset_and_the_connection_keeps_serving()
    {
        // The client stays connected (it answers, sends frames) but never grants window to stream 1.
        await using var server = await StartAsync(NoTimeouts with { SendWindowStallTimeout = TimeSpan.FromMilliseconds(300) });
        const int window = 1000;
        await using var client = await RawHttp2Client.ConnectAndHandshakeAsync(server.Port, (Http2SettingId.InitialWindowSize, window));
        var watch = Stopwatch.StartNew();
        await client.SendGrpcRequestAsync(1, FlowService.BlobsPath, new EchoRequest { Text = "5", ReplySize = 3000 }.ToByteArray());

        var reset = await client.ReadUntilAsync(f => f.StreamId == 1 && f.Type == Http2FrameType.RstStream, "RST_STREAM of the starved stream");
        Assert.Equal(Http2ErrorCode.Cancel, (Http2ErrorCode)reset.ErrorCode);
        Assert.True(watch.Elapsed >= TimeSpan.FromMilliseconds(250), $"reset after {watch.ElapsedMilliseconds} ms, before the timeout");

        // Other streams on the connection are unaffected.
        await NativeHttp2Assert.EchoWorksAsync(client, 3);
    }

    [Fact]
    public async Task A_slow_reader_that_keeps_granting_window_is_never_reset()
    {
        // The bound applies to each wait for window, not to the response: a reader that keeps
        // granting a little at a time (eight or more waits here) gets the complete response.
        await using var server = await StartAsync(NoTimeouts with { SendWindowStallTimeout = TimeSpan.FromMilliseconds(300) });
        const int window = 1000;
        await using var client = await RawHttp2Client.ConnectAndHandshakeAsync(server.Port, (Http2SettingId.InitialWindowSize, window));
        await client.SendGrpcRequestAsync(1, FlowService.BlobsPath, new EchoRequest { Text = "2", ReplySize = 4000 }.ToByteArray());
        var (response, grants, _) = await NativeHttp2Assert.ReadWithinWindowsAsync(client, 1, window);
        Assert.Null(response.ResetCode);
        Assert.True(grants >= 8, $"only {grants} grants");
        Assert.Equal("0", response.Trailer("grpc-status"));
        Assert.Equal(2, RawHttp2Client.GrpcMessages(response.Data.ToArray()).Count);
    }

    [Fact]
    public void Timeouts_validate_themselves()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => new Http2ServerLimits { HandshakeTimeout = TimeSpan.Zero }.Validate());
        Assert.Throws<ArgumentOutOfRangeException>(() => new Http2ServerLimits { IdleTimeout = TimeSpan.FromSeconds(-2) }.Validate());
        Assert.Throws<ArgumentOutOfRangeException>(() => new Http2ServerLimits { KeepAlivePingDelay = TimeSpan.Zero }.Validate());
        Assert.Throws<ArgumentOutOfRangeException>(() => new Http2ServerLimits { KeepAlivePingTimeout = Timeout.InfiniteTimeSpan }.Validate());
        Assert.Throws<ArgumentOutOfRangeException>(() => new Http2ServerLimits { SendWindowStallTimeout = TimeSpan.Zero }.Validate());
        Assert.Throws<ArgumentOutOfRangeException>(() => new GrpcServerHostOptions { Http2Limits = new() { HandshakeTimeout = TimeSpan.Zero } }.Validate());
        NoTimeouts.Validate();
        new Http2ServerLimits().Validate();
    }
}
