using System.Buffers;
using Google.Protobuf;
using HaMaster.Grpc.Protocol;

namespace HaMaster.Grpc;

/// <summary>
/// Writes framed messages into the request body of a client-streaming or duplex call.
/// Contract: one write at a time; <see cref="Complete"/> ends the request stream (END_STREAM).
/// </summary>
internal sealed class RequestStreamWriter<TReq>
    where TReq : IMessage<TReq>
{
    private readonly GrpcClientCall _call;
    private readonly StreamingRequestContent _content;
    private readonly Task _started;
    private readonly int _maxSendBytes;

    /// <summary>How long a failed write waits for the server's status before reporting the failure itself.</summary>
    private static readonly TimeSpan StatusGrace = TimeSpan.FromSeconds(1);

    public RequestStreamWriter(GrpcClientCall call, StreamingRequestContent content, Task started, int maxSendBytes)
    {
        _call = call;
        _content = content;
        _started = started;
        _maxSendBytes = maxSendBytes;
    }

    public async ValueTask WriteAsync(TReq message, CancellationToken ct)
    {
        var size = GrpcFrameCodec.CheckedSize(message, _maxSendBytes);
        // Bounded by the caller's token too: a connection that cannot even send the request head
        // (a silently dead peer) must not hold the writer past the caller's timeout.
        var opened = await Task.WhenAny(_content.RequestStream, _started).WaitAsync(ct).ConfigureAwait(false);
        if (opened != _content.RequestStream && !_content.RequestStream.IsCompleted)
        {
            // The server answered before the body was opened: surface its status (or transport failure).
            await _started.ConfigureAwait(false);
            throw new GrpcException(StatusCode.Internal, "The server ended the call before the request stream was complete") { Headers = _call.Headers };
        }

        var stream = await _content.RequestStream.ConfigureAwait(false);
        var length = GrpcProtocol.MessagePrefixLength + size;
        var buffer = ArrayPool<byte>.Shared.Rent(length);
        try
        {
            GrpcFrameCodec.WritePrefixAndBody(buffer.AsSpan(0, length), message, size);
            using var linked = ct.CanBeCanceled ? CancellationTokenSource.CreateLinkedTokenSource(ct, _call.Token) : null;
            var token = linked?.Token ?? _call.Token;
            await stream.WriteAsync(buffer.AsMemory(0, length), token).ConfigureAwait(false);
            await stream.FlushAsync(token).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is not GrpcException)
        {
            // The server may have ended the call just before this write failed (a trailers-only
            // status, then RST_STREAM): its status is the useful error, and its answer is already
            // on the connection, so give it a moment to be read before reporting the write failure.
            try
            {
                await _started.WaitAsync(StatusGrace, CancellationToken.None).ConfigureAwait(false);
            }
            catch (TimeoutException)
            {
                // No answer: the write failure is all there is.
            }

            throw _call.Fail(ex);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    public void Complete() => _content.Complete();

    public void Abort() => _content.Complete(new OperationCanceledException("The call was abandoned."));
}
