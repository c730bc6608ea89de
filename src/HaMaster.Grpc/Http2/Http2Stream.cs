using System.Buffers;
using System.Diagnostics.CodeAnalysis;
using System.IO.Pipelines;
using HaMaster.Grpc.Http2.Hpack;
using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.Http;
using WireEncoding = HaMaster.Grpc.Protocol.GrpcMessageEncoding;
using WireProtocol = HaMaster.Grpc.Protocol.GrpcProtocol;

namespace HaMaster.Grpc.Http2;

/// <summary>
/// One request/response exchange on a connection. The read loop feeds it (request body, reset);
/// the handler runs on the thread pool against an <see cref="HttpContext"/> built from this
/// stream's features. Nothing of it outlives the exchange: no pooling with expiry, so an idle
/// connection holds no per-request garbage.
/// Concurrency: the handler side (flush, finish) is sequential; the read loop only adds request
/// bytes and may reset the stream; flow-control fields are guarded by the connection.
/// </summary>
[SuppressMessage("Design", "CA1001", Justification = "The abort source has no timer; it is cancelled, never disposed, because handlers may still hold its token.")]
internal sealed partial class Http2Stream : IThreadPoolWorkItem
{
    private static readonly PipeOptions BodyPipeOptions = new(pauseWriterThreshold: 0, resumeWriterThreshold: 0, useSynchronizationContext: false);

    private readonly Http2Connection _connection;
    private readonly Pipe _requestPipe = new(BodyPipeOptions);
    private readonly CancellationTokenSource _aborted = new();
    private readonly object _receiveLock = new();
    private readonly Http2ResponseBodyWriter _responseBody;
    private string? _rejection;
    private int _uncreditedRequestBytes;
    private int _unackedExamined;
    private int _finished;
    private volatile bool _reset;
    private bool _headersSent;
    private bool _endSent;

    public Http2Stream(Http2Connection connection, int id, in Http2RequestHead head)
    {
        _connection = connection;
        Id = id;
        Method = head.Method;
        Scheme = head.Scheme;
        RawTarget = head.Path;
        var query = head.Path.IndexOf('?', StringComparison.Ordinal);
        Path = query < 0 ? head.Path : head.Path[..query];
        QueryString = query < 0 ? string.Empty : head.Path[query..];
        RequestHeaders = head.Headers;
        if (head.Authority is { } authority)
        {
            ((IHeaderDictionary)RequestHeaders).Host = authority;
        }

        RequestReader = new Http2RequestBodyReader(this, _requestPipe.Reader);
        _responseBody = new Http2ResponseBodyWriter(this);
        SendWindow = connection.PeerInitialWindow;
        ReceiveWindow = connection.Limits.InitialStreamWindow;
    }

    public int Id { get; }

    /// <summary>Bytes this stream may still send (peer's window); guarded by the connection's flow lock.</summary>
    public long SendWindow { get; set; }

    /// <summary>Bytes the peer may still send on this stream; guarded by the connection's receive lock.</summary>
    public long ReceiveWindow { get; set; }

    /// <summary>Set while a sender waits for window; guarded by the connection's flow lock.</summary>
    public TaskCompletionSource? WindowWaiter { get; set; }

    /// <summary>True once the client ended its half (END_STREAM received).</summary>
    public bool RequestEnded { get; private set; }

    public bool IsReset => _reset;

    /// <summary>A unary response is held until the handler ends, then headers, message and trailers go out in one write.</summary>
    public bool BufferResponse { get; set; }

    /// <summary>Runs the handler (queued by the read loop; never on the read loop itself).</summary>
    public void Execute() => _ = RunAsync();

    // ---- read loop side ----

    /// <summary>A DATA payload (padding already removed and credited) for the handler.</summary>
    public void OnRequestData(ReadOnlySequence<byte> data, bool endStream)
    {
        if (data.Length > 0)
        {
            lock (_receiveLock)
            {
                _uncreditedRequestBytes += (int)data.Length;
            }

            foreach (var segment in data)
            {
                _requestPipe.Writer.Write(segment.Span);
            }

            var flush = _requestPipe.Writer.FlushAsync();
            if (flush.IsCompletedSuccessfully && flush.Result.IsCompleted)
            {
                // The handler is done reading: what it will never consume goes back to the connection.
                OnRequestReaderCompleted();
            }
        }

        if (endStream)
        {
            EndRequest();
        }
    }

    public void EndRequest()
    {
        if (!RequestEnded)
        {
            RequestEnded = true;
            _requestPipe.Writer.Complete();
        }
    }

    /// <summary>
    /// RST_STREAM from the client, or the connection ended: the handler's token fires, sends stop,
    /// and a pending read of the request fails as cancelled (not as an I/O error). Read loop only:
    /// it completes the request pipe's writer, which only the read loop uses.
    /// </summary>
    public void Reset()
    {
        if (!Abandon())
        {
            return;
        }

        if (!RequestEnded)
        {
            RequestEnded = true;
            _requestPipe.Writer.Complete(new ConnectionAbortedException("The client reset the stream."));
        }
    }

    /// <summary>
    /// Marks the stream reset, wakes a sender waiting for window and cancels the handler's token;
    /// safe from any thread (the request pipe is left to the read loop). False if already reset.
    /// </summary>
    public bool Abandon()
    {
        if (_reset)
        {
            return false;
        }

        _reset = true;
        _connection.WakeSender(this);
        ThreadPool.UnsafeQueueUserWorkItem(static stream => stream.CancelToken(), this, preferLocal: false);
        return true;
    }

    private void CancelToken()
    {
        try
        {
            _aborted.Cancel();
        }
        catch (Exception ex)
        {
            // A callback registered on RequestAborted threw: log it rather than take the process down.
            _connection.OnApplicationFailure(this, ex);
        }
    }

    // ---- handler side ----

    /// <summary>The handler examined <paramref name="bytes"/> more request bytes: their window reopens.</summary>
    public void OnRequestBytesExamined(int bytes)
    {
        var streamCredit = 0;
        lock (_receiveLock)
        {
            bytes = Math.Min(bytes, _uncreditedRequestBytes);
            _uncreditedRequestBytes -= bytes;
            if (!RequestEnded)
            {
                _unackedExamined += bytes;
                if (_unackedExamined >= _connection.Limits.InitialStreamWindow / 2)
                {
                    streamCredit = _unackedExamined;
                    _unackedExamined = 0;
                }
            }
        }

        _connection.CreditReceive(this, bytes, streamCredit);
    }

    /// <summary>
    /// Padding is never seen by the handler: its window reopens at once, but in the same
    /// half-window batches as examined bytes, so a flood of tiny padded frames cannot make the
    /// server queue one WINDOW_UPDATE per frame.
    /// </summary>
    public void OnPaddingReceived(int padding)
    {
        var streamCredit = 0;
        lock (_receiveLock)
        {
            if (!RequestEnded)
            {
                _unackedExamined += padding;
                if (_unackedExamined >= _connection.Limits.InitialStreamWindow / 2)
                {
                    streamCredit = _unackedExamined;
                    _unackedExamined = 0;
                }
            }
        }

        _connection.CreditReceive(this, padding, streamCredit);
    }

    /// <summary>The handler will read no more: every byte not yet credited goes back to the connection window.</summary>
    public void OnRequestReaderCompleted()
    {
        int rest;
        lock (_receiveLock)
        {
            rest = _uncreditedRequestBytes;
            _uncreditedRequestBytes = 0;
        }

        if (rest > 0)
        {
            _connection.CreditReceive(this, rest, 0);
        }
    }

    /// <summary>
    /// The request's header list is over the limit: answer with a gRPC status saying so instead of
    /// running the handler (the block was still decoded, so the HPACK state stays in step).
    /// </summary>
    public void RejectHeadersTooLarge(int listBytes, int limit) =>
        _rejection = $"Request headers of {listBytes} bytes exceed the server's limit of {limit} bytes";

    private async Task RunAsync()
    {
        try
        {
            if (_rejection is { } rejection)
            {
                ResponseHeaders.ContentType = WireProtocol.ContentType;
                ResponseHeaders[WireProtocol.StatusHeader] = ((int)HaMaster.Grpc.StatusCode.ResourceExhausted).ToString(System.Globalization.CultureInfo.InvariantCulture);
                ResponseHeaders[WireProtocol.MessageHeader] = WireEncoding.Encode(rejection);
            }
            else
            {
                await _connection.Application.Invoke(HttpContext).ConfigureAwait(false);
            }
        }
        catch (Exception ex)
        {
            _connection.OnApplicationFailure(this, ex);
            if (!_headersSent && !_reset)
            {
                // Nothing sent yet: a clean 500 beats a reset.
                ResponseCommitted = false;
                StatusCode = StatusCodes.Status500InternalServerError;
                ResponseHeaders.Clear();
                Trailers.Clear();
                _responseBody.Consume(_responseBody.Pending.Length);
            }
        }

        try
        {
            try
            {
                await EndResponseAsync().ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is ArgumentException or InvalidOperationException)
            {
                // A header the wire cannot carry (e.g. a value above Latin-1): the exchange cannot end cleanly.
                _connection.OnApplicationFailure(this, ex);
                Abandon();
                await _connection.Output.WriteRstStreamAsync(Id, Http2ErrorCode.InternalError).ConfigureAwait(false);
            }

            if (!RequestEnded && !_reset)
            {
                // RFC 9113 8.1: the response is complete while the client still sends; tell it to stop.
                await _connection.Output.WriteRstStreamAsync(Id, Http2ErrorCode.NoError).ConfigureAwait(false);
            }
        }
        finally
        {
            RequestReader.Complete();
            OnRequestReaderCompleted();
            _responseBody.Release();
            _connection.OnStreamEnded(this);
            await RunOnCompletedAsync().ConfigureAwait(false);
        }
    }

    /// <summary>Sends what the handler flushed (and, for a streamed response, the headers first).</summary>
    public async ValueTask<FlushResult> FlushResponseAsync(CancellationToken cancellationToken)
    {
        if (_reset || _endSent)
        {
            return new FlushResult(isCanceled: false, isCompleted: true);
        }

        await CommitAsync().ConfigureAwait(false);
        if (BufferResponse)
        {
            return default;
        }

        var sent = await SendAsync(final: false, cancellationToken).ConfigureAwait(false);
        return new FlushResult(isCanceled: false, isCompleted: !sent);
    }

    /// <summary>Ends the response: headers if none went out, buffered data, trailers or an empty END_STREAM DATA. Idempotent.</summary>
    public async ValueTask EndResponseAsync()
    {
        if (Interlocked.Exchange(ref _finished, 1) != 0)
        {
            return;
        }

        if (!_reset)
        {
            await CommitAsync().ConfigureAwait(false);
            await SendAsync(final: true, CancellationToken.None).ConfigureAwait(false);
        }

        _responseBody.Complete();
    }

    private async ValueTask<bool> SendAsync(bool final, CancellationToken cancellationToken)
    {
        var pending = _responseBody.Pending.Length;
        var trailers = final && Trailers.Count > 0;
        if (!final && pending == 0 && _headersSent)
        {
            return true;
        }

        byte[]? headerBlock = null;
        byte[]? trailerBlock = null;
        try
        {
            var headerLength = 0;
            if (!_headersSent)
            {
                (headerBlock, headerLength) = EncodeResponseHeaders();
            }

            var trailerLength = 0;
            if (trailers)
            {
                (trailerBlock, trailerLength) = EncodeFields(Trailers, status: null);
            }

            // Fast path: everything fits the windows now: one write, one flush.
            if (pending == 0 || _connection.TryTakeSendWindow(this, pending))
            {
                _headersSent = true;
                _endSent = final;
                var state = new SendState(this, headerBlock, headerLength, pending, trailerBlock, trailerLength, final);
                var ok = await _connection.Output.WriteAsync(state, static (w, s, maxFrame) => s.Append(w, maxFrame)).ConfigureAwait(false);
                _responseBody.Consume(pending);
                return ok;
            }

            if (headerBlock is not null)
            {
                _headersSent = true;
                var state = new SendState(this, headerBlock, headerLength, 0, null, 0, false);
                if (!await _connection.Output.WriteAsync(state, static (w, s, maxFrame) => s.Append(w, maxFrame)).ConfigureAwait(false))
                {
                    return false;
                }
            }

            while (_responseBody.Pending.Length > 0)
            {
                var granted = await _connection.TakeSendWindowAsync(this, _responseBody.Pending.Length, cancellationToken).ConfigureAwait(false);
                if (granted == 0)
                {
                    return false;
                }

                var chunkEnd = final && !trailers && granted == _responseBody.Pending.Length;
                var state = new SendState(this, null, 0, granted, null, 0, chunkEnd);
                var ok = await _connection.Output.WriteAsync(state, static (w, s, maxFrame) => s.Append(w, maxFrame)).ConfigureAwait(false);
                _responseBody.Consume(granted);
                if (!ok)
                {
                    return false;
                }

                _endSent = chunkEnd;
            }

            if (final && !_endSent)
            {
                _endSent = true;
                var state = new SendState(this, null, 0, 0, trailerBlock, trailerLength, true);
                return await _connection.Output.WriteAsync(state, static (w, s, maxFrame) => s.Append(w, maxFrame)).ConfigureAwait(false);
            }

            return true;
        }
        finally
        {
            if (headerBlock is not null)
            {
                ArrayPool<byte>.Shared.Return(headerBlock);
            }

            if (trailerBlock is not null)
            {
                ArrayPool<byte>.Shared.Return(trailerBlock);
            }
        }
    }

    private (byte[] Block, int Length) EncodeResponseHeaders() => EncodeFields(ResponseHeaders, StatusCode);

    private static (byte[] Block, int Length) EncodeFields(IHeaderDictionary fields, int? status)
    {
        var size = status is null ? 0 : 8;
        foreach (var (name, values) in fields)
        {
            foreach (var value in values)
            {
                size += HpackEncoder.MaxEncodedLength(name, value ?? string.Empty);
            }
        }

        var block = ArrayPool<byte>.Shared.Rent(Math.Max(size, 16));
        var length = 0;
        if (status is { } code)
        {
            length += HpackEncoder.WriteStatus(code, block);
        }

        foreach (var (name, values) in fields)
        {
            var lower = LowerCase(name);
            if (IsConnectionSpecific(lower))
            {
                continue;
            }

            foreach (var value in values)
            {
                var written = HpackEncoder.WriteHeader(lower, value ?? string.Empty, block.AsSpan(length));
                if (written < 0)
                {
                    throw new InvalidOperationException("Header block larger than its computed bound.");
                }

                length += written;
            }
        }

        return (block, length);
    }

    private static string LowerCase(string name)
    {
        foreach (var c in name)
        {
            if (c is >= 'A' and <= 'Z')
            {
                return name.ToLowerInvariant();
            }
        }

        return name;
    }

    private static bool IsConnectionSpecific(string name) =>
        name is "connection" or "transfer-encoding" or "keep-alive" or "upgrade" or "proxy-connection";

    /// <summary>What one locked write appends: header block, DATA, trailer block or END_STREAM, in that order.</summary>
    private readonly record struct SendState(Http2Stream Stream, byte[]? Headers, int HeadersLength, int DataLength, byte[]? Trailers, int TrailersLength, bool End)
    {
        public void Append(PipeWriter writer, int maxFrame)
        {
            var id = Stream.Id;
            if (Headers is not null)
            {
                var headersEnd = End && DataLength == 0 && Trailers is null;
                Http2Output.AppendHeaderBlock(writer, id, Headers.AsSpan(0, HeadersLength), headersEnd, maxFrame);
            }

            if (DataLength > 0)
            {
                Http2Output.AppendData(writer, id, Stream._responseBody.Pending[..DataLength], End && Trailers is null, maxFrame);
            }

            if (Trailers is not null)
            {
                Http2Output.AppendHeaderBlock(writer, id, Trailers.AsSpan(0, TrailersLength), endStream: true, maxFrame);
            }
            else if (End && DataLength == 0 && Headers is null)
            {
                Http2Output.AppendData(writer, id, default, endStream: true, maxFrame);
            }
        }
    }
}

/// <summary>The request line and headers of a new stream, as decoded from its HEADERS block.</summary>
internal readonly record struct Http2RequestHead(string Method, string Scheme, string Path, string? Authority, HeaderDictionary Headers);
