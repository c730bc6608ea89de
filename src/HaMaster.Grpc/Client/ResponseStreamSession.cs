using System.Runtime.CompilerServices;
using Google.Protobuf;

namespace HaMaster.Grpc;

/// <summary>
/// The response side shared by server-streaming and duplex calls: starts the HTTP/2 request,
/// reads the response messages once, keeps the trailers of an OK end, and resets the stream
/// when disposed before the end (which cancels the server handler). Not thread-safe.
/// </summary>
internal sealed class ResponseStreamSession<TResp> : IDisposable
    where TResp : IMessage<TResp>
{
    private readonly CancellationTokenSource _abort;
    private readonly HttpRequestMessage _request;
    private readonly MessageParser<TResp> _parser;
    private Metadata? _trailers;
    private bool _enumerated;

    public ResponseStreamSession(GrpcChannel channel, string fullMethod, HttpContent content, MessageParser<TResp> parser, CallOptions? options)
    {
        var effective = options ?? new CallOptions();
        _abort = CancellationTokenSource.CreateLinkedTokenSource(effective.CancellationToken);
        Call = new GrpcClientCall(channel, fullMethod, effective with { CancellationToken = _abort.Token });
        _parser = parser;
        _request = Call.CreateRequest(content);
        Started = Call.StartAsync(_request).AsTask();
        ResponseStream = ReadAsync(CancellationToken.None);
    }

    public GrpcClientCall Call { get; }

    /// <summary>Completes when the response headers arrived (faults if the call failed before them).</summary>
    public Task Started { get; }

    public IAsyncEnumerable<TResp> ResponseStream { get; }

    public async ValueTask<Metadata> GetResponseHeadersAsync()
    {
        await Started.ConfigureAwait(false);
        return Call.Headers;
    }

    public Metadata GetTrailers() =>
        _trailers ?? throw new InvalidOperationException("Trailers are available once the response stream has been read to its end.");

    public void Dispose()
    {
        if (_trailers is null)
        {
            _abort.Cancel();
        }

        _request.Dispose();
        Call.Dispose();
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
        await Started.ConfigureAwait(false);
        var reader = await Call.CreateReaderAsync(_parser).ConfigureAwait(false);
        while (await Call.MoveNextAsync(reader).ConfigureAwait(false))
        {
            yield return reader!.Current;
        }

        _trailers = Call.EnsureSuccess();
    }
}
