using System.Buffers;
using System.Net;
using Google.Protobuf;
using HaMaster.Grpc.Protocol;

namespace HaMaster.Grpc;

/// <summary>
/// The body of a unary or server-streaming request: one framed message, serialised into a pooled
/// buffer when HttpClient asks for it. The size limit is checked by the constructor so an oversized
/// request fails before anything is sent.
/// </summary>
internal sealed class UnaryRequestContent<T> : HttpContent
    where T : IMessage<T>
{
    private readonly T _message;
    private readonly int _size;

    public UnaryRequestContent(T message, int maxSendBytes)
    {
        _message = message;
        _size = GrpcFrameCodec.CheckedSize(message, maxSendBytes);
    }

    protected override Task SerializeToStreamAsync(Stream stream, TransportContext? context) =>
        SerializeToStreamAsync(stream, context, CancellationToken.None);

    protected override async Task SerializeToStreamAsync(Stream stream, TransportContext? context, CancellationToken cancellationToken)
    {
        var length = GrpcProtocol.MessagePrefixLength + _size;
        var buffer = ArrayPool<byte>.Shared.Rent(length);
        try
        {
            GrpcFrameCodec.WritePrefixAndBody(buffer.AsSpan(0, length), _message, _size);
            await stream.WriteAsync(buffer.AsMemory(0, length), cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    // No content-length: gRPC bodies are delimited by END_STREAM, as other gRPC clients send them.
    protected override bool TryComputeLength(out long length)
    {
        length = 0;
        return false;
    }
}

/// <summary>
/// The body of a client-streaming request: HttpClient hands us the request stream, the call object
/// writes framed messages into it as the application produces them, and completing the call ends
/// the stream (END_STREAM). Contract: one writer at a time.
/// </summary>
internal sealed class StreamingRequestContent : HttpContent
{
    private readonly TaskCompletionSource<Stream> _stream = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly TaskCompletionSource _completed = new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>Completes when HttpClient has opened the request stream.</summary>
    public Task<Stream> RequestStream => _stream.Task;

    /// <summary>Ends the request stream (normally, or faulted to abort it).</summary>
    public void Complete(Exception? error = null)
    {
        if (error is null)
        {
            _completed.TrySetResult();
        }
        else
        {
            _completed.TrySetException(error);
        }
    }

    protected override Task SerializeToStreamAsync(Stream stream, TransportContext? context) =>
        SerializeToStreamAsync(stream, context, CancellationToken.None);

    protected override async Task SerializeToStreamAsync(Stream stream, TransportContext? context, CancellationToken cancellationToken)
    {
        _stream.TrySetResult(stream);
        await using var registration = cancellationToken.Register(() => _completed.TrySetCanceled(cancellationToken)).ConfigureAwait(false);
        await _completed.Task.ConfigureAwait(false);
    }

    protected override bool TryComputeLength(out long length)
    {
        length = 0;
        return false;
    }
}
