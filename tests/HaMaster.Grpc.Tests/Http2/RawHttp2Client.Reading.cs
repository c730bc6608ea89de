using System.Net.Sockets;
using System.Text;
using HaMaster.Grpc.Http2;
using HaMaster.Grpc.Http2.Hpack;

namespace HaMaster.Grpc.Tests.Http2;

/// <summary>The reading half of the raw client: frames, responses, connection close; every read bounded by <see cref="ReadTimeout"/>.</summary>
internal sealed partial class RawHttp2Client
{
    /// <summary>The next frame; null when the server closed the connection (EOF or reset). Throws <see cref="TimeoutException"/> after <see cref="ReadTimeout"/>.</summary>
    public async Task<RawFrame?> ReadFrameAsync()
    {
        var header = new byte[Http2FrameHeader.Size];
        if (!await ReadExactAsync(header))
        {
            return null;
        }

        var parsed = Http2FrameHeader.Read(header);

        // Every read checks the server against the SETTINGS_MAX_FRAME_SIZE this client advertised.
        Assert.True(parsed.Length <= _maxFrameSize, $"{parsed.Type} frame of {parsed.Length} bytes exceeds our SETTINGS_MAX_FRAME_SIZE {_maxFrameSize}");
        var payload = new byte[parsed.Length];
        if (!await ReadExactAsync(payload))
        {
            throw new IOException($"connection closed inside the payload of {parsed.Type}");
        }

        return new RawFrame(parsed.Type, parsed.Flags, parsed.StreamId, payload);
    }

    /// <summary>Reads raw bytes (not frames) until the server closes the connection; returns how many arrived. Bounded by 64 KiB and <see cref="ReadTimeout"/> per read.</summary>
    public async Task<int> ReadUntilClosedAsync()
    {
        var total = 0;
        var buffer = new byte[4096];
        while (total < 64 * 1024)
        {
            using var timeout = new CancellationTokenSource(ReadTimeout);
            int n;
            try
            {
                n = await _stream.ReadAsync(buffer, timeout.Token);
            }
            catch (OperationCanceledException) when (timeout.IsCancellationRequested)
            {
                throw new TimeoutException($"the server kept the connection open for {ReadTimeout.TotalSeconds} s");
            }
            catch (IOException ex) when (ex.InnerException is SocketException { SocketErrorCode: SocketError.ConnectionReset })
            {
                return total;
            }

            if (n == 0)
            {
                return total;
            }

            total += n;
        }

        throw new InvalidOperationException("the server sent over 64 KiB instead of closing");
    }

    /// <summary>Reads frames until one matches; at most <paramref name="maxFrames"/> frames; fails on connection close.</summary>
    public async Task<RawFrame> ReadUntilAsync(Func<RawFrame, bool> match, string what, int maxFrames = 256)
    {
        for (var i = 0; i < maxFrames; i++)
        {
            var frame = await ReadFrameAsync() ?? throw new IOException($"connection closed while waiting for {what}");
            if (match(frame))
            {
                return frame;
            }
        }

        throw new InvalidOperationException($"no {what} within {maxFrames} frames");
    }

    /// <summary>Expects the server to end the connection: returns the GOAWAY it sent, after checking the socket then closes.</summary>
    public async Task<RawFrame> ReadGoAwayAndCloseAsync()
    {
        var goAway = await ReadUntilAsync(f => f.Type == Http2FrameType.GoAway, "GOAWAY");
        for (var i = 0; i < 64; i++)
        {
            var next = await ReadFrameAsync();
            if (next is null)
            {
                return goAway;
            }

            Assert.NotEqual(Http2FrameType.Headers, next.Type);
            Assert.NotEqual(Http2FrameType.Data, next.Type);
        }

        throw new InvalidOperationException("the connection stayed open after GOAWAY");
    }

    /// <summary>
    /// Reads the response of <paramref name="streamId"/> until END_STREAM or RST_STREAM, skipping frames of other
    /// streams and connection frames (answering nothing). Header blocks are reassembled from CONTINUATION frames.
    /// </summary>
    public async Task<RawResponse> ReadResponseAsync(int streamId, int maxFrames = 4096)
    {
        var response = new RawResponse();
        MemoryStream? block = null;
        var blockEndsStream = false;
        for (var i = 0; i < maxFrames; i++)
        {
            var frame = await ReadFrameAsync() ?? throw new IOException($"connection closed before stream {streamId} ended");
            if (frame.Type == Http2FrameType.GoAway)
            {
                Assert.Fail($"GOAWAY {(Http2ErrorCode)frame.ErrorCode} \"{frame.DebugText}\" while waiting for stream {streamId}");
            }

            if (frame.StreamId != streamId)
            {
                continue;
            }

            response.Frames.Add(frame);
            switch (frame.Type)
            {
                case Http2FrameType.Headers:
                    Assert.Null(block);
                    block = new MemoryStream();
                    block.Write(frame.Payload);
                    blockEndsStream = frame.Has(Http2Flags.EndStream);
                    break;
                case Http2FrameType.Continuation:
                    Assert.NotNull(block);
                    block.Write(frame.Payload);
                    break;
                case Http2FrameType.Data:
                    Assert.Null(block);
                    response.Data.Write(frame.Payload);
                    if (frame.Has(Http2Flags.EndStream))
                    {
                        return response;
                    }

                    continue;
                case Http2FrameType.RstStream:
                    response.ResetCode = frame.ErrorCode;
                    return response;
                default:
                    continue;
            }

            if (frame.Has(Http2Flags.EndHeaders))
            {
                var fields = DecodeHeaders(block!.ToArray());
                block = null;
                if (response.Headers is null)
                {
                    response.Headers = fields;
                }
                else
                {
                    Assert.Null(response.Trailers);
                    response.Trailers = fields;
                }

                if (blockEndsStream)
                {
                    return response;
                }
            }
        }

        throw new InvalidOperationException($"stream {streamId} did not end within {maxFrames} frames");
    }

    /// <summary>The first value of <paramref name="name"/> in <paramref name="fields"/>, or null.</summary>
    public static string? FindField(List<(string Name, string Value)>? fields, string name) =>
        fields?.FirstOrDefault(f => f.Name == name).Value;

    public List<(string Name, string Value)> DecodeHeaders(byte[] block)
    {
        var sink = new FieldList();
        _decoder.Decode(block, sink);
        return sink.Fields;
    }

    /// <summary>Fills <paramref name="buffer"/>; false on a clean EOF (or reset) before its first byte.</summary>
    private async Task<bool> ReadExactAsync(byte[] buffer)
    {
        using var timeout = new CancellationTokenSource(ReadTimeout);
        var read = 0;
        try
        {
            while (read < buffer.Length)
            {
                var n = await _stream.ReadAsync(buffer.AsMemory(read), timeout.Token);
                if (n == 0)
                {
                    return read == 0 ? false : throw new IOException("connection closed inside a frame");
                }

                read += n;
            }
        }
        catch (OperationCanceledException) when (timeout.IsCancellationRequested)
        {
            throw new TimeoutException($"no frame from the server within {ReadTimeout.TotalSeconds} s");
        }
        catch (IOException ex) when (read == 0 && ex.InnerException is SocketException { SocketErrorCode: SocketError.ConnectionReset })
        {
            return false;
        }

        return true;
    }

    private sealed class FieldList : IHpackHeaderSink
    {
        public List<(string Name, string Value)> Fields { get; } = [];

        public void OnHeader(ReadOnlySpan<byte> name, ReadOnlySpan<byte> value) =>
            Fields.Add((Encoding.Latin1.GetString(name), Encoding.Latin1.GetString(value)));
    }
}
