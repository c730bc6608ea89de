using Google.Protobuf;

namespace HaMaster.Grpc;

/// <summary>
/// A client-streaming call in progress. Contract: <see cref="WriteAsync"/> calls are sequential
/// (one at a time), <see cref="CompleteAsync"/> is called once after the last write. Disposing an
/// uncompleted call resets the stream (the server handler sees cancellation).
/// </summary>
public sealed class ClientStreamingCall<TReq, TResp> : IDisposable
    where TReq : IMessage<TReq>
    where TResp : IMessage<TResp>
{
    private readonly GrpcClientCall _call;
    private readonly MessageParser<TResp> _parser;
    private readonly HttpRequestMessage _request;
    private readonly Task _started;
    private readonly RequestStreamWriter<TReq> _writer;
    private bool _completed;

    internal ClientStreamingCall(GrpcChannel channel, GrpcClientCall call, MessageParser<TResp> parser)
    {
        _call = call;
        _parser = parser;
        var content = new StreamingRequestContent();
        _request = call.CreateRequest(content);

        // HTTP/2 is full duplex: the request body is written while SendAsync waits for the response head.
        _started = call.StartAsync(_request).AsTask();
        _writer = new RequestStreamWriter<TReq>(call, content, _started, channel.Options.MaxSendMessageBytes);
    }

    /// <summary>Frames and sends one message (flushed). Throws the call's status if the server already ended it.</summary>
    public ValueTask WriteAsync(TReq message, CancellationToken ct = default)
    {
        ObjectDisposedException.ThrowIf(_completed, this);
        return _writer.WriteAsync(message, ct);
    }

    /// <summary>Ends the request stream and waits for the response message, headers and trailers.</summary>
    public async ValueTask<GrpcResponse<TResp>> CompleteAsync()
    {
        ObjectDisposedException.ThrowIf(_completed, this);
        _completed = true;
        _writer.Complete();
        try
        {
            await _started.ConfigureAwait(false);
            var reader = await _call.CreateReaderAsync(_parser).ConfigureAwait(false);
            if (!await _call.MoveNextAsync(reader).ConfigureAwait(false))
            {
                throw new GrpcException(StatusCode.Internal, "The server ended a client-streaming call without a response message", _call.EnsureSuccess()) { Headers = _call.Headers };
            }

            var message = reader!.Current;
            if (await _call.MoveNextAsync(reader).ConfigureAwait(false))
            {
                throw new GrpcException(StatusCode.Internal, "The server sent more than one response message") { Headers = _call.Headers };
            }

            return new GrpcResponse<TResp>(message, _call.Headers, _call.EnsureSuccess());
        }
        finally
        {
            Dispose();
        }
    }

    public void Dispose()
    {
        _completed = true;
        _writer.Abort();
        _request.Dispose();
        _call.Dispose();
    }
}
