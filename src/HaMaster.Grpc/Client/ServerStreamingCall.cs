using System.Runtime.CompilerServices;
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
    private readonly GrpcClientCall _call;
    private readonly CancellationTokenSource _abort;
    private readonly HttpRequestMessage _request;
    private readonly Task _started;
    private readonly MessageParser<TResp> _parser;
    private Metadata? _trailers;
    private bool _enumerated;

    internal ServerStreamingCall(GrpcChannel channel, string fullMethod, HttpContent content, MessageParser<TResp> parser, CallOptions? options)
    {
        var effective = options ?? new CallOptions();
        _abort = CancellationTokenSource.CreateLinkedTokenSource(effective.CancellationToken);
        _call = new GrpcClientCall(channel, fullMethod, effective with { CancellationToken = _abort.Token });
        _parser = parser;
        _request = _call.CreateRequest(content);
        _started = _call.StartAsync(_request).AsTask();
        ResponseStream = ReadAsync(CancellationToken.None);
    }

    /// <summary>The response messages; a non-OK final status is thrown as <see cref="GrpcException"/> after the last one.</summary>
    public IAsyncEnumerable<TResp> ResponseStream { get; }

    /// <summary>Waits for the response headers (throws <see cref="GrpcException"/> if the call failed before them).</summary>
    public async ValueTask<Metadata> GetResponseHeadersAsync()
    {
        await _started.ConfigureAwait(false);
        return _call.Headers;
    }

    /// <summary>The trailers of a call whose stream completed with OK.</summary>
    /// <exception cref="InvalidOperationException">The stream has not been read to its end.</exception>
    public Metadata GetTrailers() =>
        _trailers ?? throw new InvalidOperationException("Trailers are available once the response stream has been read to its end.");

    public void Dispose()
    {
        if (_trailers is null)
        {
            _abort.Cancel();
        }

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
