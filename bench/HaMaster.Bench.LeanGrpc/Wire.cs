using System.Buffers.Binary;
using System.Globalization;
using System.Text;
using Google.Protobuf;

namespace HaMaster.Bench.LeanGrpc;

/// <summary>HTTP/2 frame types a unary client meets (RFC 9113 section 6).</summary>
internal enum Http2FrameType : byte
{
    Data = 0x0,
    Headers = 0x1,
    RstStream = 0x3,
    Settings = 0x4,
    Ping = 0x6,
    GoAway = 0x7,
    WindowUpdate = 0x8,
    Continuation = 0x9,
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

/// <summary>Setting identifiers (RFC 9113 section 6.5.2) the client sends.</summary>
internal static class Http2SettingId
{
    public const ushort EnablePush = 0x2;
    public const ushort InitialWindowSize = 0x4;
}

/// <summary>The 9-byte frame header (RFC 9113 section 4.1).</summary>
internal readonly record struct Http2FrameHeader(int Length, Http2FrameType Type, byte Flags, int StreamId)
{
    public const int Size = 9;

    /// <summary>SETTINGS_MAX_FRAME_SIZE's default; this client never advertises more.</summary>
    public const int DefaultMaxFrameSize = 16384;

    /// <summary>Initial flow-control window of the connection and of every stream.</summary>
    public const int DefaultWindow = 65535;

    /// <summary>The client connection preface (RFC 9113 section 3.4).</summary>
    public static ReadOnlySpan<byte> Preface => "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"u8;

    public bool HasFlag(byte flag) => (Flags & flag) != 0;

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

    /// <summary>A whole WINDOW_UPDATE frame: header and 4-byte increment.</summary>
    public static void WriteWindowUpdate(Span<byte> destination, int streamId, int increment)
    {
        Write(destination, 4, Http2FrameType.WindowUpdate, 0, streamId);
        BinaryPrimitives.WriteUInt32BigEndian(destination[Size..], (uint)increment & 0x7FFF_FFFF);
    }
}

/// <summary>The gRPC-over-HTTP/2 pieces a unary client needs (PROTOCOL-HTTP2.md).</summary>
internal static class GrpcWire
{
    /// <summary>1-byte compressed flag + 4-byte big-endian length.</summary>
    public const int MessagePrefixLength = 5;

    public const int DefaultMaxMessageBytes = 4 << 20;

    /// <summary>Writes the prefix and the message into at least 5 + <paramref name="size"/> bytes.</summary>
    public static void WritePrefixAndBody<T>(Span<byte> destination, T message, int size)
        where T : IMessage<T>
    {
        destination[0] = 0;
        BinaryPrimitives.WriteUInt32BigEndian(destination[1..], (uint)size);
        message.WriteTo(destination.Slice(MessagePrefixLength, size));
    }

    /// <summary>
    /// A grpc-timeout value: at most 8 digits and a unit; the finest unit that fits, rounded up so
    /// the server never sees a shorter deadline than ours.
    /// </summary>
    public static string FormatTimeout(TimeSpan timeout)
    {
        const long maxValue = 99_999_999;
        var ticks = Math.Max(1, timeout.Ticks);
        (long TicksPerUnit, char Unit)[] units =
        [
            (TimeSpan.TicksPerMillisecond, 'm'),
            (TimeSpan.TicksPerSecond, 'S'),
            (TimeSpan.TicksPerMinute, 'M'),
            (TimeSpan.TicksPerHour, 'H'),
        ];
        foreach (var (perUnit, unit) in units)
        {
            var value = (ticks + perUnit - 1) / perUnit;
            if (value <= maxValue) return value.ToString(CultureInfo.InvariantCulture) + unit;
        }

        return "99999999H";
    }

    /// <summary>Undoes grpc-message's percent-encoding (a malformed escape is kept as it is).</summary>
    public static string DecodeMessage(string? encoded)
    {
        if (string.IsNullOrEmpty(encoded) || !encoded.Contains('%', StringComparison.Ordinal)) return encoded ?? "";
        var bytes = new List<byte>(encoded.Length);
        for (var i = 0; i < encoded.Length; i++)
        {
            if (encoded[i] == '%' && i + 2 < encoded.Length
                && byte.TryParse(encoded.AsSpan(i + 1, 2), NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out var b))
            {
                bytes.Add(b);
                i += 2;
            }
            else
            {
                bytes.AddRange(Encoding.UTF8.GetBytes(encoded[i].ToString()));
            }
        }

        return Encoding.UTF8.GetString(bytes.ToArray());
    }
}
