using System.Buffers.Binary;
using System.Diagnostics.CodeAnalysis;
using System.IO.Pipelines;

namespace HaMaster.Grpc.Http2;

/// <summary>
/// The sending half of one connection. Every frame is written and flushed under one async lock,
/// so frames of different streams never interleave inside a header block and the transport's
/// <see cref="PipeWriter"/> (not thread-safe) has one user at a time. After the transport fails
/// or the connection ends, writes are dropped and report false.
/// </summary>
[SuppressMessage("Design", "CA1001", Justification = "The SemaphoreSlim never allocates a wait handle (only WaitAsync is used).")]
internal sealed class Http2Output
{
    private readonly PipeWriter _writer;
    private readonly SemaphoreSlim _lock = new(1, 1);
    private volatile bool _closed;

    public Http2Output(PipeWriter writer) => _writer = writer;

    /// <summary>The peer's SETTINGS_MAX_FRAME_SIZE; written by the read loop.</summary>
    public int PeerMaxFrameSize { get; set; } = Http2FrameHeader.DefaultMaxFrameSize;

    public bool IsClosed => _closed;

    /// <summary>
    /// Runs <paramref name="write"/> (which appends frames to the writer) and flushes, under the
    /// lock. False when the connection is closed or the transport failed (nothing more can be sent).
    /// </summary>
    public async ValueTask<bool> WriteAsync<TState>(TState state, Action<PipeWriter, TState, int> write)
    {
        if (_closed)
        {
            return false;
        }

        await _lock.WaitAsync().ConfigureAwait(false);
        try
        {
            if (_closed)
            {
                return false;
            }

            write(_writer, state, PeerMaxFrameSize);
            var flush = _writer.FlushAsync();
            var result = flush.IsCompletedSuccessfully ? flush.Result : await flush.ConfigureAwait(false);
            if (result.IsCompleted || result.IsCanceled)
            {
                _closed = true;
                return false;
            }

            return true;
        }
        catch (Exception ex) when (ex is IOException or InvalidOperationException or ObjectDisposedException or OperationCanceledException)
        {
            _closed = true;
            return false;
        }
        finally
        {
            _lock.Release();
        }
    }

    /// <summary>No frame is sent after this; waits for a write under way to finish.</summary>
    public async ValueTask CloseAsync()
    {
        await _lock.WaitAsync().ConfigureAwait(false);
        _closed = true;
        _lock.Release();
    }

    public ValueTask<bool> WriteSettingsAsync(Http2ServerLimits limits) => WriteAsync(limits, static (w, l, _) =>
    {
        const int settings = 5;
        var span = w.GetSpan(Http2FrameHeader.Size + (settings * 6) + Http2FrameHeader.Size + 4);
        Http2FrameHeader.Write(span, settings * 6, Http2FrameType.Settings, 0, 0);
        var p = span[Http2FrameHeader.Size..];
        WriteSetting(ref p, Http2SettingId.HeaderTableSize, (uint)l.HeaderTableBytes);
        WriteSetting(ref p, Http2SettingId.EnablePush, 0);
        WriteSetting(ref p, Http2SettingId.MaxConcurrentStreams, (uint)l.MaxConcurrentStreams);
        WriteSetting(ref p, Http2SettingId.InitialWindowSize, (uint)l.InitialStreamWindow);
        WriteSetting(ref p, Http2SettingId.MaxHeaderListSize, (uint)l.MaxHeaderListBytes);
        var written = Http2FrameHeader.Size + (settings * 6);
        var connectionIncrement = l.InitialConnectionWindow - Http2FrameHeader.DefaultWindow;
        if (connectionIncrement > 0)
        {
            Http2FrameHeader.WriteWindowUpdate(span[written..], 0, connectionIncrement);
            written += Http2FrameHeader.Size + 4;
        }

        w.Advance(written);
    });

    public ValueTask<bool> WriteSettingsAckAsync() => WriteAsync(0, static (w, _, _) =>
    {
        Http2FrameHeader.Write(w.GetSpan(Http2FrameHeader.Size), 0, Http2FrameType.Settings, Http2Flags.Ack, 0);
        w.Advance(Http2FrameHeader.Size);
    });

    public ValueTask<bool> WritePingAckAsync(ulong opaque) => WritePingAsync(opaque, ack: true);

    public ValueTask<bool> WritePingAsync(ulong opaque, bool ack = false) => WriteAsync((opaque, ack), static (w, ping, _) =>
    {
        var (data, ack) = ping;
        var span = w.GetSpan(Http2FrameHeader.Size + 8);
        Http2FrameHeader.Write(span, 8, Http2FrameType.Ping, ack ? Http2Flags.Ack : (byte)0, 0);
        BinaryPrimitives.WriteUInt64BigEndian(span[Http2FrameHeader.Size..], data);
        w.Advance(Http2FrameHeader.Size + 8);
    });

    public ValueTask<bool> WriteWindowUpdateAsync(int streamId, int increment) => WriteAsync((streamId, increment), static (w, s, _) =>
    {
        Http2FrameHeader.WriteWindowUpdate(w.GetSpan(Http2FrameHeader.Size + 4), s.streamId, s.increment);
        w.Advance(Http2FrameHeader.Size + 4);
    });

    public ValueTask<bool> WriteRstStreamAsync(int streamId, Http2ErrorCode code) => WriteAsync((streamId, code), static (w, s, _) =>
    {
        var span = w.GetSpan(Http2FrameHeader.Size + 4);
        Http2FrameHeader.Write(span, 4, Http2FrameType.RstStream, 0, s.streamId);
        BinaryPrimitives.WriteUInt32BigEndian(span[Http2FrameHeader.Size..], (uint)s.code);
        w.Advance(Http2FrameHeader.Size + 4);
    });

    public ValueTask<bool> WriteGoAwayAsync(int lastStreamId, Http2ErrorCode code, string? debug) => WriteAsync((lastStreamId, code, debug), static (w, s, _) =>
    {
        var debugBytes = s.debug is null ? 0 : Math.Min(System.Text.Encoding.UTF8.GetByteCount(s.debug), 256);
        var span = w.GetSpan(Http2FrameHeader.Size + 8 + 1024);
        Http2FrameHeader.Write(span, 8 + debugBytes, Http2FrameType.GoAway, 0, 0);
        BinaryPrimitives.WriteUInt32BigEndian(span[Http2FrameHeader.Size..], (uint)s.lastStreamId);
        BinaryPrimitives.WriteUInt32BigEndian(span[(Http2FrameHeader.Size + 4)..], (uint)s.code);
        if (debugBytes > 0)
        {
            var bytes = System.Text.Encoding.UTF8.GetBytes(s.debug!);
            bytes.AsSpan(0, debugBytes).CopyTo(span[(Http2FrameHeader.Size + 8)..]);
        }

        w.Advance(Http2FrameHeader.Size + 8 + debugBytes);
    });

    /// <summary>
    /// Appends a header block as one HEADERS frame plus CONTINUATION frames when it exceeds the
    /// peer's frame size. Call only from inside <see cref="WriteAsync"/> (the block must not be split
    /// by another stream's frames).
    /// </summary>
    public static void AppendHeaderBlock(PipeWriter writer, int streamId, ReadOnlySpan<byte> block, bool endStream, int maxFrameSize)
    {
        var first = true;
        do
        {
            var chunk = Math.Min(block.Length, maxFrameSize);
            var last = chunk == block.Length;
            byte flags = last ? Http2Flags.EndHeaders : (byte)0;
            if (first && endStream)
            {
                flags |= Http2Flags.EndStream;
            }

            var span = writer.GetSpan(Http2FrameHeader.Size + chunk);
            Http2FrameHeader.Write(span, chunk, first ? Http2FrameType.Headers : Http2FrameType.Continuation, flags, streamId);
            block[..chunk].CopyTo(span[Http2FrameHeader.Size..]);
            writer.Advance(Http2FrameHeader.Size + chunk);
            block = block[chunk..];
            first = false;
        }
        while (block.Length > 0);
    }

    /// <summary>Appends DATA frames carrying <paramref name="data"/> (already within the flow-control windows).</summary>
    public static void AppendData(PipeWriter writer, int streamId, ReadOnlySpan<byte> data, bool endStream, int maxFrameSize)
    {
        do
        {
            var chunk = Math.Min(data.Length, maxFrameSize);
            var last = chunk == data.Length;
            var span = writer.GetSpan(Http2FrameHeader.Size + chunk);
            Http2FrameHeader.Write(span, chunk, Http2FrameType.Data, last && endStream ? Http2Flags.EndStream : (byte)0, streamId);
            data[..chunk].CopyTo(span[Http2FrameHeader.Size..]);
            writer.Advance(Http2FrameHeader.Size + chunk);
            data = data[chunk..];
        }
        while (data.Length > 0);
    }

    private static void WriteSetting(ref Span<byte> destination, ushort id, uint value)
    {
        BinaryPrimitives.WriteUInt16BigEndian(destination, id);
        BinaryPrimitives.WriteUInt32BigEndian(destination[2..], value);
        destination = destination[6..];
    }
}
