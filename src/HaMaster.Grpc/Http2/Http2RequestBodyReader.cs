using System.Buffers;
using System.IO.Pipelines;

namespace HaMaster.Grpc.Http2;

/// <summary>
/// The request body of one stream as the handler sees it: a pipe the connection's read loop fills
/// with DATA payloads. What the handler examines reopens the stream's and the connection's
/// receive windows, so a slow handler slows its client (HTTP/2 flow control as back-pressure).
/// </summary>
internal sealed class Http2RequestBodyReader : PipeReader
{
    private readonly Http2Stream _stream;
    private readonly PipeReader _inner;
    private ReadOnlySequence<byte> _last;

    // Bytes at the front of the unconsumed data whose window was already reopened.
    private long _creditedAhead;
    private bool _completed;

    public Http2RequestBodyReader(Http2Stream stream, PipeReader inner)
    {
        _stream = stream;
        _inner = inner;
    }

    public override void AdvanceTo(SequencePosition consumed) => AdvanceTo(consumed, consumed);

    public override void AdvanceTo(SequencePosition consumed, SequencePosition examined)
    {
        var consumedBytes = _last.Slice(0, consumed).Length;
        var examinedBytes = _last.Slice(0, examined).Length;
        _inner.AdvanceTo(consumed, examined);
        _last = default;

        // Window is reopened for what the handler has examined, not only consumed: a reader that
        // needs a whole message (gRPC) examines a partial one without consuming it, and must still
        // let the client send the rest. The message size limit bounds what is buffered.
        var newlyExamined = examinedBytes - _creditedAhead;
        _creditedAhead = Math.Max(_creditedAhead, examinedBytes) - consumedBytes;
        if (newlyExamined > 0)
        {
            _stream.OnRequestBytesExamined((int)newlyExamined);
        }
    }

    public override void CancelPendingRead() => _inner.CancelPendingRead();

    public override void Complete(Exception? exception = null)
    {
        if (_completed)
        {
            return;
        }

        _completed = true;
        _inner.Complete(exception);
        _stream.OnRequestReaderCompleted();
    }

    public override async ValueTask<ReadResult> ReadAsync(CancellationToken cancellationToken = default)
    {
        var result = await _inner.ReadAsync(cancellationToken).ConfigureAwait(false);
        _last = result.Buffer;
        return result;
    }

    public override bool TryRead(out ReadResult result)
    {
        if (_inner.TryRead(out result))
        {
            _last = result.Buffer;
            return true;
        }

        return false;
    }
}
