using System.Buffers;
using System.Buffers.Binary;
using Google.Protobuf;

namespace HaMaster.Grpc.Protocol;

/// <summary>Outcome of looking for one length-prefixed message in a buffer.</summary>
internal enum FrameScan
{
    /// <summary>Not enough bytes yet for the prefix or the body.</summary>
    NeedMoreData,

    /// <summary>A whole frame is in the buffer.</summary>
    Complete,

    /// <summary>The prefix declares a message over the receive limit.</summary>
    TooLarge,
}

/// <summary>
/// The gRPC message framing: a 1-byte compressed flag, a 4-byte big-endian length, then the
/// message. Pure functions over buffers, shared by the server and the client.
/// </summary>
internal static class GrpcFrameCodec
{
    /// <summary>Looks for one whole frame at the start of <paramref name="buffer"/> without copying it.</summary>
    public static FrameScan TryReadFrame(
        in ReadOnlySequence<byte> buffer,
        int maxMessageBytes,
        out bool compressed,
        out long declaredLength,
        out ReadOnlySequence<byte> payload)
    {
        compressed = false;
        declaredLength = 0;
        payload = default;
        if (buffer.Length < GrpcProtocol.MessagePrefixLength)
        {
            return FrameScan.NeedMoreData;
        }

        Span<byte> prefix = stackalloc byte[GrpcProtocol.MessagePrefixLength];
        buffer.Slice(0, GrpcProtocol.MessagePrefixLength).CopyTo(prefix);
        compressed = prefix[0] != 0;
        declaredLength = BinaryPrimitives.ReadUInt32BigEndian(prefix[1..]);
        if (declaredLength > maxMessageBytes)
        {
            return FrameScan.TooLarge;
        }

        if (buffer.Length - GrpcProtocol.MessagePrefixLength < declaredLength)
        {
            return FrameScan.NeedMoreData;
        }

        payload = buffer.Slice(GrpcProtocol.MessagePrefixLength, declaredLength);
        return FrameScan.Complete;
    }

    /// <summary>
    /// Serialises <paramref name="message"/> with its prefix straight into <paramref name="writer"/>.
    /// Throws RESOURCE_EXHAUSTED (before writing anything) when it exceeds <paramref name="maxMessageBytes"/>.
    /// </summary>
    public static void WriteFrame<T>(IBufferWriter<byte> writer, T message, int maxMessageBytes)
        where T : IMessage<T>
    {
        var size = CheckedSize(message, maxMessageBytes);
        var span = writer.GetSpan(GrpcProtocol.MessagePrefixLength + size);
        WritePrefixAndBody(span, message, size);
        writer.Advance(GrpcProtocol.MessagePrefixLength + size);
    }

    /// <summary>Size of the message body, checked against the send limit.</summary>
    public static int CheckedSize<T>(T message, int maxMessageBytes)
        where T : IMessage<T>
    {
        ArgumentNullException.ThrowIfNull(message);
        var size = message.CalculateSize();
        if (size > maxMessageBytes)
        {
            throw new GrpcException(
                StatusCode.ResourceExhausted,
                $"Sending message larger than max ({size} vs. {maxMessageBytes} bytes) for {MessageName<T>.Value}");
        }

        return size;
    }

    /// <summary>Writes prefix and body into a span of at least 5 + <paramref name="size"/> bytes.</summary>
    public static void WritePrefixAndBody<T>(Span<byte> destination, T message, int size)
        where T : IMessage<T>
    {
        destination[0] = 0;
        BinaryPrimitives.WriteUInt32BigEndian(destination[1..], (uint)size);
        message.WriteTo(destination.Slice(GrpcProtocol.MessagePrefixLength, size));
    }
}
