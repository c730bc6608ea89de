using System.IO.Pipelines;
using Google.Protobuf;
using HaMaster.Grpc.Protocol;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.Logging;

namespace HaMaster.Grpc;

/// <summary>
/// The state of one server call: reads requests from and writes responses to the HTTP/2 stream,
/// owns the deadline timer, and sends the final status. Contract: the pipeline (one task) owns the
/// call; a handler may read and write concurrently (duplex) but never write concurrently with itself.
/// </summary>
internal sealed partial class GrpcServerCall : IDisposable
{
    /// <summary>CancellationTokenSource timers cannot exceed ~49 days; longer deadlines are effectively infinite.</summary>
    private static readonly TimeSpan MaxTimer = TimeSpan.FromDays(30);

    private readonly CancellationTokenSource? _deadlineCts;
    private readonly CancellationTokenSource _callCts;
    private bool _readerTaken;
    private bool _headersPrepared;

    // Serialises response writes with the final status: the deadline path may end the call while
    // a handler that ignores its token is still running (and possibly writing).
    private readonly SemaphoreSlim _writeLock = new(1, 1);
    private bool _statusWritten;

    private GrpcServerCall(HttpContext http, GrpcMethodDefinition method, GrpcServerOptions options, TimeSpan? timeout)
    {
        Http = http;
        Options = options;
        DateTimeOffset? deadline = null;
        if (timeout is { } t)
        {
            deadline = DateTimeOffset.UtcNow + t;
            _deadlineCts = new CancellationTokenSource(t < MaxTimer ? t : MaxTimer);
            _callCts = CancellationTokenSource.CreateLinkedTokenSource(http.RequestAborted, _deadlineCts.Token);
        }
        else
        {
            _callCts = CancellationTokenSource.CreateLinkedTokenSource(http.RequestAborted);
        }

        Context = new ServerCallContext(http, method.Path, ReadRequestMetadata(http.Request), deadline, _callCts.Token, _deadlineCts?.Token ?? CancellationToken.None);
    }

    public HttpContext Http { get; }

    public GrpcServerOptions Options { get; }

    public ServerCallContext Context { get; }

    public bool DeadlineExceeded => _deadlineCts?.IsCancellationRequested == true;

    public void ThrowIfDeadlineExceeded()
    {
        if (DeadlineExceeded)
        {
            throw new GrpcException(StatusCode.DeadlineExceeded, "Deadline exceeded");
        }
    }

    /// <summary>Reads the one request of a unary or server-streaming call, up to the end of the request stream.</summary>
    public async ValueTask<T> ReadSingleRequestAsync<T>(MessageParser<T> parser)
        where T : IMessage<T>
    {
        var reader = CreateReader(parser);
        var token = Context.CancellationToken;
        if (!await reader.MoveNextAsync(token).ConfigureAwait(false))
        {
            throw new GrpcException(StatusCode.Internal, "The request stream ended without a request message");
        }

        var request = reader.Current;
        if (await reader.MoveNextAsync(token).ConfigureAwait(false))
        {
            throw new GrpcException(StatusCode.Internal, "More than one request message for a method that takes one");
        }

        return request;
    }

    public GrpcMessageReader<T> CreateReader<T>(MessageParser<T> parser)
        where T : IMessage<T>
    {
        if (_readerTaken)
        {
            throw new InvalidOperationException("The request stream can be read only once.");
        }

        _readerTaken = true;
        var encoding = Http.Request.Headers[GrpcProtocol.EncodingHeader].ToString();
        return new GrpcMessageReader<T>(Http.Request.BodyReader, parser, Options.MaxReceiveMessageBytes, encoding, isRequest: true);
    }

    /// <summary>Serialises and flushes one response message; the first one sends the response headers.</summary>
    public async ValueTask WriteMessageAsync<T>(T message, CancellationToken cancellationToken)
        where T : IMessage<T>
    {
        // Size is checked before touching the body so an oversized first message can still end
        // the call with a trailers-only RESOURCE_EXHAUSTED.
        var size = GrpcFrameCodec.CheckedSize(message, Options.MaxSendMessageBytes);
        using var linked = cancellationToken.CanBeCanceled && cancellationToken != Context.CancellationToken
            ? CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, Context.CancellationToken)
            : null;
        var token = linked?.Token ?? Context.CancellationToken;
        await _writeLock.WaitAsync(token).ConfigureAwait(false);
        try
        {
            if (_statusWritten)
            {
                ThrowIfDeadlineExceeded();
                throw new InvalidOperationException("The call has already ended; no more messages can be written.");
            }

            PrepareHeaders();
            var writer = Http.Response.BodyWriter;
            var span = writer.GetSpan(GrpcProtocol.MessagePrefixLength + size);
            GrpcFrameCodec.WritePrefixAndBody(span, message, size);
            writer.Advance(GrpcProtocol.MessagePrefixLength + size);
            var flush = await writer.FlushAsync(token).ConfigureAwait(false);
            if (flush.IsCanceled || flush.IsCompleted)
            {
                token.ThrowIfCancellationRequested();
                throw new OperationCanceledException("The response stream is closed.");
            }
        }
        finally
        {
            _writeLock.Release();
        }
    }

    public void Dispose()
    {
        _callCts.Dispose();
        _deadlineCts?.Dispose();
        _writeLock.Dispose();
    }

    private void PrepareHeaders()
    {
        if (_headersPrepared)
        {
            return;
        }

        _headersPrepared = true;
        var response = Http.Response;
        response.StatusCode = StatusCodes.Status200OK;
        response.ContentType = GrpcProtocol.ContentType;
        response.Headers[GrpcProtocol.AcceptEncodingHeader] = GrpcProtocol.SupportedEncodings;
        foreach (var (key, value) in Context.ResponseHeaders)
        {
            response.Headers.Append(key, value);
        }
    }

    private static Metadata ReadRequestMetadata(HttpRequest request)
    {
        var metadata = new Metadata();
        foreach (var header in request.Headers)
        {
            if (GrpcProtocol.IsReservedHeader(header.Key))
            {
                continue;
            }

            foreach (var value in header.Value)
            {
                metadata.AddUnchecked(header.Key, value ?? string.Empty);
            }
        }

        return metadata;
    }
}
