using System.Buffers.Binary;
using Google.Protobuf;
using HaMaster.Grpc.Http2;
using HaMaster.Grpc.Tests.Interop;

namespace HaMaster.Grpc.Tests.Http2;

/// <summary>Checks shared by the raw HTTP/2 tests.</summary>
internal static class NativeHttp2Assert
{
    /// <summary>After a handshake, <paramref name="bytes"/> must end the connection with GOAWAY(<paramref name="expected"/>); the server keeps serving others.</summary>
    public static async Task ConnectionErrorAsync(int port, byte[] bytes, Http2ErrorCode expected)
    {
        await using (var client = await RawHttp2Client.ConnectAndHandshakeAsync(port))
        {
            await client.WriteRawAsync(bytes);
            var goAway = await client.ReadGoAwayAndCloseAsync();

            Assert.Equal(0, goAway.StreamId);
            Assert.True(goAway.Payload.Length >= 8);
            Assert.Equal(expected, (Http2ErrorCode)goAway.ErrorCode);

            // The last stream id names a client-initiated stream (odd) or none (0).
            Assert.Equal(0, (int)BinaryPrimitives.ReadUInt32BigEndian(goAway.Payload) & 1);
        }

        await ServerStillServesAsync(port);
    }

    /// <summary>A connection error ends one connection, never the server.</summary>
    public static async Task ServerStillServesAsync(int port)
    {
        await using var client = await RawHttp2Client.ConnectAndHandshakeAsync(port);
        await EchoWorksAsync(client, 1);
    }

    /// <summary>An Echo call on <paramref name="streamId"/> of an open connection succeeds.</summary>
    public static async Task EchoWorksAsync(RawHttp2Client client, int streamId)
    {
        var text = $"echo on {streamId}";
        await client.SendGrpcRequestAsync(streamId, NativeHttp2ServerTests.EchoPath, new EchoRequest { Text = text }.ToByteArray());
        var response = await client.ReadResponseAsync(streamId);
        Assert.Null(response.ResetCode);
        Assert.Equal("0", response.Trailer("grpc-status"));
        Assert.Equal(text, EchoReply.Parser.ParseFrom(Assert.Single(RawHttp2Client.GrpcMessages(response.Data.ToArray()))).Text);
    }

    /// <summary>
    /// Reads stream <paramref name="streamId"/> while granting send window in slices: <paramref name="streamWindow"/> bytes
    /// for the stream, <paramref name="connectionWindow"/> for the connection. Whenever either is used up, a PING round
    /// trip gives the server the chance to (wrongly) send more; only after its ACK does a WINDOW_UPDATE grant the next
    /// slice. <paramref name="initialStreamLeft"/> is the stream window still open at the start (default: all of it).
    /// <paramref name="headersAlreadyRead"/>: the caller consumed the response headers, the next HEADERS are trailers.
    /// Returns the response and how many stream and connection grants were needed.
    /// </summary>
    public static async Task<(RawResponse Response, int StreamGrants, int ConnectionGrants)> ReadWithinWindowsAsync(
        RawHttp2Client client, int streamId, int streamWindow, int connectionWindow = Http2FrameHeader.DefaultWindow, long? initialStreamLeft = null, bool headersAlreadyRead = false)
    {
        var response = new RawResponse { Headers = headersAlreadyRead ? [] : null };
        var streamLeft = initialStreamLeft ?? streamWindow;
        long connectionLeft = connectionWindow;
        var pingOutstanding = streamLeft == 0;
        if (pingOutstanding)
        {
            await client.WritePingAsync(0xFFFF);
        }

        int streamGrants = 0, connectionGrants = 0;
        for (var i = 0; i < 10_000; i++)
        {
            var frame = await client.ReadFrameAsync() ?? throw new IOException("connection closed mid-stream");
            if (frame.Type == Http2FrameType.Ping && frame.Has(Http2Flags.Ack) && pingOutstanding)
            {
                pingOutstanding = false;
                if (streamLeft == 0)
                {
                    await client.WriteWindowUpdateAsync(streamId, streamWindow);
                    streamLeft = streamWindow;
                    streamGrants++;
                }

                if (connectionLeft == 0)
                {
                    await client.WriteWindowUpdateAsync(0, connectionWindow);
                    connectionLeft = connectionWindow;
                    connectionGrants++;
                }

                continue;
            }

            Assert.NotEqual(Http2FrameType.GoAway, frame.Type);
            if (frame.StreamId != streamId)
            {
                continue;
            }

            response.Frames.Add(frame);
            switch (frame.Type)
            {
                case Http2FrameType.Data:
                    Assert.True(frame.Payload.Length <= streamLeft, $"DATA of {frame.Payload.Length} bytes with {streamLeft} bytes of stream window left");
                    Assert.True(frame.Payload.Length <= connectionLeft, $"DATA of {frame.Payload.Length} bytes with {connectionLeft} bytes of connection window left");
                    streamLeft -= frame.Payload.Length;
                    connectionLeft -= frame.Payload.Length;
                    response.Data.Write(frame.Payload);
                    if (frame.Has(Http2Flags.EndStream))
                    {
                        return (response, streamGrants, connectionGrants);
                    }

                    if ((streamLeft == 0 || connectionLeft == 0) && !pingOutstanding)
                    {
                        await client.WritePingAsync((ulong)i);
                        pingOutstanding = true;
                    }

                    break;
                case Http2FrameType.Headers:
                    Assert.True(frame.Has(Http2Flags.EndHeaders));
                    var fields = client.DecodeHeaders(frame.Payload);
                    if (response.Headers is null)
                    {
                        response.Headers = fields;
                    }
                    else
                    {
                        response.Trailers = fields;
                    }

                    if (frame.Has(Http2Flags.EndStream))
                    {
                        Assert.NotNull(response.Trailers);
                        return (response, streamGrants, connectionGrants);
                    }

                    break;
                default:
                    Assert.Fail($"unexpected {frame}");
                    break;
            }
        }

        throw new InvalidOperationException("the stream did not end within 10000 frames");
    }
}
