using Google.Protobuf;

namespace HaMaster.Grpc;

/// <summary>
/// A server-streaming call that also exposes response headers and, after the last message, the
/// trailers (e.g. <c>hamaster-leader</c>). Enumerate <see cref="ResponseStream"/> once. Disposing
/// before the end resets the stream, which cancels the server handler. Not thread-safe.
/// </summary>
public sealed class ServerStreamingCall<TResp> : IDisposable
    where TResp : IMessage<TResp>
{
    private readonly ResponseStreamSession<TResp> _session;

    internal ServerStreamingCall(GrpcChannel channel, string fullMethod, HttpContent content, MessageParser<TResp> parser, CallOptions? options)
    {
        _session = new ResponseStreamSession<TResp>(channel, fullMethod, content, parser, options);
    }

    /// <summary>The response messages; a non-OK final status is thrown as <see cref="GrpcException"/> after the last one.</summary>
    public IAsyncEnumerable<TResp> ResponseStream => _session.ResponseStream;

    /// <summary>Waits for the response headers (throws <see cref="GrpcException"/> if the call failed before them).</summary>
    public ValueTask<Metadata> GetResponseHeadersAsync() => _session.GetResponseHeadersAsync();

    /// <summary>The trailers of a call whose stream completed with OK.</summary>
    /// <exception cref="InvalidOperationException">The stream has not been read to its end.</exception>
    public Metadata GetTrailers() => _session.GetTrailers();

    public void Dispose() => _session.Dispose();
}
