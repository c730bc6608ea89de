using System.Runtime.CompilerServices;
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
    private readonly GrpcClientCall _call;
    private readonly CancellationTokenSource _abort;
    private readonly HttpRequestMessage _request;
    private readonly Task _started;
    private readonly MessageParser<TResp> _parser;
    private readonly RequestStreamWriter<TReq> _writer;
    private Metadata? _trailers;
    private bool _enumerated;

    internal DuplexStreamingCall(GrpcChannel channel, string fullMethod, MessageParser<TResp> parser, CallOptions? options)
    {
        var effective = options ?? new CallOptions();
        _abort = CancellationTokenSource.CreateLinkedTokenSource(effective.CancellationToken);
        _call = new GrpcClientCall(channel, fullMethod, effective with { CancellationToken = _abort.Token });
        _parser = parser;
        var content = new StreamingRequestContent();
        _request = _call.CreateRequest(content);
        _started = _call.StartAsync(_request).AsTask();
        _writer = new RequestStreamWriter<TReq>(_call, content, _started, channel.Options.MaxSendMessageBytes);
        ResponseStream = ReadAsync(CancellationToken.None);
    }

    /// <summary>The response messages; a non-OK final status is thrown as <see cref="GrpcException"/> after the last one.</summary>
    public IAsyncEnumerable<TResp> ResponseStream { get; }

    public ValueTask WriteAsync(TReq message, CancellationToken ct = default) => _writer.WriteAsync(message, ct);

    /// <summary>Ends the request stream (END_STREAM); responses keep flowing.</summary>
    public void CompleteRequests() => _writer.Complete();

    public async ValueTask<Metadata> GetResponseHeadersAsync()
    {
        await _started.ConfigureAwait(false);
        return _call.Headers;
    }

    /// <exception cref="InvalidOperationException">The response stream has not been read to its end.</exception>
    public Metadata GetTrailers() =>
        _trailers ?? throw new InvalidOperationException("Trailers are available once the response stream has been read to its end.");

    public void Dispose()
    {
        if (_trailers is null)
        {
            _abort.Cancel();
        }

        _writer.Abort();
        _request.Dispose();
        _call.Dispose();
        _abort.Dispose();
    }

    private async IAsyncEnumerable<TResp> ReadAsync([EnumeratorCancellation] CancellationToken cancellationToken)
    {
        if (_enumerated)
        {
            throw new InvalidOperationException("The response stream can be enumerated only once.");
        }

        _enumerated = true;
        await using var registration = cancellationToken.Register(static state => ((CancellationTokenSource)state!).Cancel(), _abort).ConfigureAwait(false);
        await _started.ConfigureAwait(false);
        var reader = await _call.CreateReaderAsync(_parser).ConfigureAwait(false);
        while (await _call.MoveNextAsync(reader).ConfigureAwait(false))
        {
            yield return reader!.Current;
        }

        _trailers = _call.EnsureSuccess();
    }
}
