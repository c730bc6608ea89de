using System.Buffers.Binary;

namespace HaMaster.Grpc.Http2;

/// <summary>Frame types of RFC 9113 section 6.</summary>
internal enum Http2FrameType : byte
{
    Data = 0x0,
    Headers = 0x1,
    Priority = 0x2,
    RstStream = 0x3,
    Settings = 0x4,
    PushPromise = 0x5,
    Ping = 0x6,
    GoAway = 0x7,
    WindowUpdate = 0x8,
    Continuation = 0x9,
}

/// <summary>Error codes of RFC 9113 section 7.</summary>
internal enum Http2ErrorCode : uint
{
    NoError = 0x0,
    ProtocolError = 0x1,
    InternalError = 0x2,
    FlowControlError = 0x3,
    SettingsTimeout = 0x4,
    StreamClosed = 0x5,
    FrameSizeError = 0x6,
    RefusedStream = 0x7,
    Cancel = 0x8,
    CompressionError = 0x9,
    EnhanceYourCalm = 0xb,
}

/// <summary>Frame flags (their meaning depends on the frame type).</summary>
internal static class Http2Flags
{
    public const byte EndStream = 0x1;
    public const byte Ack = 0x1;
    public const byte EndHeaders = 0x4;
    public const byte Padded = 0x8;
    public const byte Priority = 0x20;
}

/// <summary>Setting identifiers of RFC 9113 section 6.5.2.</summary>
internal static class Http2SettingId
{
    public const ushort HeaderTableSize = 0x1;
    public const ushort EnablePush = 0x2;
    public const ushort MaxConcurrentStreams = 0x3;
    public const ushort InitialWindowSize = 0x4;
    public const ushort MaxFrameSize = 0x5;
    public const ushort MaxHeaderListSize = 0x6;
}

/// <summary>A connection error: the connection ends with GOAWAY carrying <see cref="Code"/>.</summary>
internal sealed class Http2ConnectionException(Http2ErrorCode code, string message) : Exception(message)
{
    public Http2ErrorCode Code { get; } = code;
}

/// <summary>The 9-byte frame header (RFC 9113 section 4.1).</summary>
internal readonly record struct Http2FrameHeader(int Length, Http2FrameType Type, byte Flags, int StreamId)
{
    public const int Size = 9;

    /// <summary>The default and minimum SETTINGS_MAX_FRAME_SIZE; we never advertise more.</summary>
    public const int DefaultMaxFrameSize = 16384;

    /// <summary>The largest legal flow-control window (2^31 - 1).</summary>
    public const int MaxWindow = int.MaxValue;

    /// <summary>The initial window of every stream and of the connection until SETTINGS say otherwise.</summary>
    public const int DefaultWindow = 65535;

    /// <summary>The client connection preface (RFC 9113 3.4).</summary>
    public static ReadOnlySpan<byte> Preface => "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"u8;

    public bool HasFlag(byte flag) => (Flags & flag) != 0;

    /// <summary>Writes a whole WINDOW_UPDATE frame (header and 4-byte increment).</summary>
    public static void WriteWindowUpdate(Span<byte> destination, int streamId, int increment)
    {
        Write(destination, 4, Http2FrameType.WindowUpdate, 0, streamId);
        BinaryPrimitives.WriteUInt32BigEndian(destination[Size..], (uint)increment & 0x7FFF_FFFF);
    }

    public static Http2FrameHeader Read(ReadOnlySpan<byte> source) => new(
        (source[0] << 16) | (source[1] << 8) | source[2],
        (Http2FrameType)source[3],
        source[4],
        (int)(BinaryPrimitives.ReadUInt32BigEndian(source[5..]) & 0x7FFF_FFFF));

    public static void Write(Span<byte> destination, int length, Http2FrameType type, byte flags, int streamId)
    {
        destination[0] = (byte)(length >> 16);
        destination[1] = (byte)(length >> 8);
        destination[2] = (byte)length;
        destination[3] = (byte)type;
        destination[4] = flags;
        BinaryPrimitives.WriteUInt32BigEndian(destination[5..], (uint)streamId & 0x7FFF_FFFF);
    }
}

/// <summary>Limits of the native HTTP/2 server. Immutable; <see cref="Validate"/> checks the ranges.</summary>
public sealed record Http2ServerLimits
{
    /// <summary>SETTINGS_MAX_CONCURRENT_STREAMS: open streams per connection (default 2000); more are refused.</summary>
    public int MaxConcurrentStreams { get; init; } = 2000;

    /// <summary>Receive window of each stream in bytes (default 1 MiB): what a client may send ahead of the handler.</summary>
    public int InitialStreamWindow { get; init; } = 1 << 20;

    /// <summary>
    /// Receive window of the connection in bytes (default 8 MiB). Windows reopen as handlers
    /// examine request bytes, so what a connection buffers is bounded by its open streams times the
    /// message size limit, not by this window.
    /// </summary>
    public int InitialConnectionWindow { get; init; } = 8 << 20;

    /// <summary>SETTINGS_MAX_HEADER_LIST_SIZE in bytes (default 32 KiB); a larger request header list is refused.</summary>
    public int MaxHeaderListBytes { get; init; } = 32 << 10;

    /// <summary>SETTINGS_HEADER_TABLE_SIZE: the HPACK dynamic table the client may use, in bytes (default 4096).</summary>
    public int HeaderTableBytes { get; init; } = 4096;

    /// <summary>
    /// Time a new connection has to send the client preface (default 10 s); a connection that sends
    /// nothing, or something slowly, is closed instead of holding a socket forever.
    /// </summary>
    public TimeSpan HandshakeTimeout { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>
    /// A connection that has had no open stream for this long (none opened or ended; PINGs and
    /// other control frames do not count) is sent GOAWAY and closed (default 5 minutes, like gRPC's
    /// MAX_CONNECTION_IDLE; <see cref="Timeout.InfiniteTimeSpan"/> disables it). Clients reconnect
    /// on their next call; a stream raced with the GOAWAY is refused, which clients retry.
    /// Long-lived streams (Raft peer streams) keep their connection open.
    /// </summary>
    public TimeSpan IdleTimeout { get; init; } = TimeSpan.FromMinutes(5);

    /// <summary>
    /// A connection that has received nothing for this long is sent a PING (default 30 s, as the
    /// Kestrel mode is configured; <see cref="Timeout.InfiniteTimeSpan"/> disables keep-alive).
    /// </summary>
    public TimeSpan KeepAlivePingDelay { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>
    /// A connection that then receives nothing (not even the PING's ACK) for this long is closed, and
    /// its streams reset (default 20 s): a peer that vanished without closing (power loss, partition)
    /// does not hold its streams and buffers forever.
    /// </summary>
    public TimeSpan KeepAlivePingTimeout { get; init; } = TimeSpan.FromSeconds(20);

    /// <summary>
    /// How long a response may wait for flow-control window (the client's WINDOW_UPDATE) before its
    /// stream is reset with CANCEL and its handler cancelled (default 60 s;
    /// <see cref="Timeout.InfiniteTimeSpan"/> waits as long as the call's deadline). A client that stays
    /// connected but stops reading cannot hold a handler, and what it buffered, forever.
    /// </summary>
    public TimeSpan SendWindowStallTimeout { get; init; } = TimeSpan.FromSeconds(60);

    /// <summary>How often one server-wide timer checks every connection against the timeouts.</summary>
    internal TimeSpan SweepInterval
    {
        get
        {
            var shortest = HandshakeTimeout;
            foreach (var t in new[] { IdleTimeout, KeepAlivePingDelay, KeepAlivePingTimeout })
            {
                if (t != Timeout.InfiniteTimeSpan && t < shortest) shortest = t;
            }

            return TimeSpan.FromTicks(Math.Clamp(shortest.Ticks / 4, TimeSpan.FromMilliseconds(20).Ticks, TimeSpan.FromSeconds(5).Ticks));
        }
    }

    public Http2ServerLimits Validate()
    {
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(HandshakeTimeout, TimeSpan.Zero);
        foreach (var t in new[] { IdleTimeout, KeepAlivePingDelay, SendWindowStallTimeout })
        {
            if (t != Timeout.InfiniteTimeSpan) ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(t, TimeSpan.Zero);
        }

        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(KeepAlivePingTimeout, TimeSpan.Zero);

        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(MaxConcurrentStreams);
        ArgumentOutOfRangeException.ThrowIfLessThan(InitialStreamWindow, Http2FrameHeader.DefaultWindow);
        ArgumentOutOfRangeException.ThrowIfLessThan(InitialConnectionWindow, Http2FrameHeader.DefaultWindow);
        ArgumentOutOfRangeException.ThrowIfLessThan(MaxHeaderListBytes, 1024);
        ArgumentOutOfRangeException.ThrowIfNegative(HeaderTableBytes);
        return this;
    }
}
