using System.Buffers;
using System.IO.Compression;
using System.IO.Pipelines;
using Google.Protobuf;

namespace HaMaster.Grpc.Protocol;

/// <summary>
/// Pulls length-prefixed messages from a pipe, one per <see cref="MoveNextAsync"/>; reading is
/// driven by the consumer, so HTTP/2 flow control gives back-pressure to the sender.
/// Errors are <see cref="GrpcException"/>s with the codes the spec asks for: oversized ->
/// RESOURCE_EXHAUSTED, truncated frame -> INTERNAL, unparsable message -> the code of the side
/// (INVALID_ARGUMENT for requests, INTERNAL for responses).
/// Not thread-safe: one reader per stream, used by one consumer at a time.
/// </summary>
internal sealed class GrpcMessageReader<T>
    where T : IMessage<T>
{
    private readonly PipeReader _pipe;
    private readonly MessageParser<T> _parser;
    private readonly int _maxMessageBytes;
    private readonly string? _encoding;
    private readonly bool _isRequest;
    private bool _finished;

    public GrpcMessageReader(PipeReader pipe, MessageParser<T> parser, int maxMessageBytes, string? encoding, bool isRequest)
    {
        _pipe = pipe;
        _parser = parser;
        _maxMessageBytes = maxMessageBytes;
        _encoding = encoding;
        _isRequest = isRequest;
    }

    /// <summary>The message read by the last successful <see cref="MoveNextAsync"/>.</summary>
    public T Current { get; private set; } = default!;

    /// <summary>Number of messages read so far.</summary>
    public int Count { get; private set; }

    /// <summary>Reads the next message; false at a clean end of stream.</summary>
    public async ValueTask<bool> MoveNextAsync(CancellationToken cancellationToken)
    {
        if (_finished)
        {
            return false;
        }

        while (true)
        {
            var result = await _pipe.ReadAsync(cancellationToken).ConfigureAwait(false);
            if (result.IsCanceled)
            {
                throw new OperationCanceledException("The read was cancelled.", cancellationToken);
            }

            var buffer = result.Buffer;
            var scan = GrpcFrameCodec.TryReadFrame(buffer, _maxMessageBytes, out var compressed, out var length, out var payload);
            switch (scan)
            {
                case FrameScan.Complete:
                    try
                    {
                        Current = Parse(compressed, payload);
                    }
                    finally
                    {
                        _pipe.AdvanceTo(payload.End);
                    }

                    Count++;
                    return true;

                case FrameScan.TooLarge:
                    _pipe.AdvanceTo(buffer.Start);
                    _finished = true;
                    throw new GrpcException(
                        StatusCode.ResourceExhausted,
                        $"Received message larger than max ({length} vs. {_maxMessageBytes} bytes)");

                default:
                    if (result.IsCompleted)
                    {
                        var leftover = buffer.Length;
                        _pipe.AdvanceTo(buffer.End);
                        _finished = true;
                        if (leftover == 0)
                        {
                            return false;
                        }

                        throw new GrpcException(
                            StatusCode.Internal,
                            leftover < GrpcProtocol.MessagePrefixLength
                                ? $"Incomplete message: the stream ended inside the {GrpcProtocol.MessagePrefixLength}-byte message prefix ({leftover} bytes)"
                                : $"Incomplete message: the stream ended after {leftover - GrpcProtocol.MessagePrefixLength} of {length} bytes");
                    }

                    _pipe.AdvanceTo(buffer.Start, buffer.End);
                    break;
            }
        }
    }

    private T Parse(bool compressed, ReadOnlySequence<byte> payload)
    {
        try
        {
            if (!compressed)
            {
                return _parser.ParseFrom(payload);
            }

            return _parser.ParseFrom(Decompress(payload));
        }
        catch (InvalidProtocolBufferException ex)
        {
            var what = _isRequest ? "request" : "response";
            throw new GrpcException(
                _isRequest ? StatusCode.InvalidArgument : StatusCode.Internal,
                $"could not parse {what} as {MessageName<T>.Value}: {ex.Message}",
                null,
                ex);
        }
    }

    private byte[] Decompress(ReadOnlySequence<byte> payload)
    {
        if (string.IsNullOrEmpty(_encoding) || string.Equals(_encoding, "identity", StringComparison.OrdinalIgnoreCase))
        {
            throw new GrpcException(StatusCode.Internal, "Message has the compressed flag set but no grpc-encoding was declared");
        }

        if (!string.Equals(_encoding, "gzip", StringComparison.OrdinalIgnoreCase))
        {
            throw new GrpcException(StatusCode.Unimplemented, $"Unsupported grpc-encoding '{_encoding}'; supported: {GrpcProtocol.SupportedEncodings}");
        }

        using var input = new MemoryStream(payload.ToArray(), writable: false);
        using var gzip = new GZipStream(input, CompressionMode.Decompress);
        using var output = new MemoryStream();
        var chunk = ArrayPool<byte>.Shared.Rent(16 * 1024);
        try
        {
            int read;
            while ((read = gzip.Read(chunk, 0, chunk.Length)) > 0)
            {
                if (output.Length + read > _maxMessageBytes)
                {
                    throw new GrpcException(
                        StatusCode.ResourceExhausted,
                        $"Received message larger than max (over {_maxMessageBytes} bytes after decompression)");
                }

                output.Write(chunk, 0, read);
            }
        }
        catch (InvalidDataException ex)
        {
            throw new GrpcException(StatusCode.Internal, $"Could not decompress gzip message: {ex.Message}", null, ex);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(chunk);
        }

        return output.ToArray();
    }
}
