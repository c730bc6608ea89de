using Google.Protobuf;

namespace HaMaster.Grpc;

/// <summary>
/// A bidirectional streaming call: write requests with <see cref="WriteAsync"/> (one at a time),
/// end them with <see cref="CompleteRequests"/>, and read <see cref="ResponseStream"/> concurrently.
/// Trailers are available once the response stream ended with OK. Dispose to end or abandon the call.
/// Note: SendAsync completes when the server sends its response headers, which our server does
/// with its first message.
/// </summary>
public sealed class DuplexStreamingCall<TReq, TResp> : IDisposable
    where TReq : IMessage<TReq>
    where TResp : IMessage<TResp>
{
    private readonly ResponseStreamSession<TResp> _session;
    private readonly RequestStreamWriter<TReq> _writer;

    internal DuplexStreamingCall(GrpcChannel channel, string fullMethod, MessageParser<TResp> parser, CallOptions? options)
    {
        var content = new StreamingRequestContent();
        _session = new ResponseStreamSession<TResp>(channel, fullMethod, content, parser, options);
        _writer = new RequestStreamWriter<TReq>(_session.Call, content, _session.Started, channel.Options.MaxSendMessageBytes);
    }

    /// <summary>The response messages; a non-OK final status is thrown as <see cref="GrpcException"/> after the last one.</summary>
    public IAsyncEnumerable<TResp> ResponseStream => _session.ResponseStream;

    public ValueTask WriteAsync(TReq message, CancellationToken ct = default) => _writer.WriteAsync(message, ct);

    /// <summary>Ends the request stream (END_STREAM); responses keep flowing.</summary>
    public void CompleteRequests() => _writer.Complete();

    public ValueTask<Metadata> GetResponseHeadersAsync() => _session.GetResponseHeadersAsync();

    /// <exception cref="InvalidOperationException">The response stream has not been read to its end.</exception>
    public Metadata GetTrailers() => _session.GetTrailers();

    public void Dispose()
    {
        _writer.Abort();
        _session.Dispose();
    }
}
