using System.IO.Pipelines;
using System.Net;
using System.Net.Http.Headers;
using Google.Protobuf;
using HaMaster.Grpc.Protocol;

namespace HaMaster.Grpc;

/// <summary>
/// One client call's HTTP/2 exchange: builds the request, applies the deadline and cancellation,
/// validates the response head, reads messages and the final status. Used by one task at a time
/// (client streaming: the writer and the response reader are sequenced by the call object).
/// </summary>
internal sealed class GrpcClientCall : IDisposable
{
    private static readonly MediaTypeHeaderValue GrpcMediaType = new(GrpcProtocol.ContentType);

    private readonly GrpcChannel _channel;
    private readonly string _fullMethod;
    private readonly CallOptions _options;
    private readonly CancellationTokenSource? _deadlineCts;
    private readonly CancellationTokenSource? _linkedCts;
    private HttpResponseMessage? _response;
    private PipeReader? _body;

    public GrpcClientCall(GrpcChannel channel, string fullMethod, CallOptions? options)
    {
        ArgumentException.ThrowIfNullOrEmpty(fullMethod);
        if (fullMethod[0] != '/')
        {
            throw new ArgumentException($"Method must be \"/package.Service/Method\", got '{fullMethod}'.", nameof(fullMethod));
        }

        _channel = channel;
        _fullMethod = fullMethod;
        _options = options ?? new CallOptions();
        var userToken = _options.CancellationToken;
        if (_options.Timeout is { } timeout)
        {
            _deadlineCts = new CancellationTokenSource(timeout <= TimeSpan.Zero ? TimeSpan.Zero : timeout < TimeSpan.FromDays(30) ? timeout : TimeSpan.FromDays(30));
            _linkedCts = CancellationTokenSource.CreateLinkedTokenSource(userToken, _deadlineCts.Token);
            Token = _linkedCts.Token;
        }
        else
        {
            Token = userToken;
        }
    }

    /// <summary>Fires at the deadline or when the caller cancels.</summary>
    public CancellationToken Token { get; }

    public Metadata Headers { get; private set; } = new();

    /// <summary>The server answered OK in a trailers-only response: no messages follow.</summary>
    private bool TrailersOnlyOk { get; set; }

    public bool DeadlineExceeded => _deadlineCts?.IsCancellationRequested == true;

    public HttpRequestMessage CreateRequest(HttpContent content)
    {
        var request = new HttpRequestMessage(HttpMethod.Post, new Uri(_channel.Address, _fullMethod))
        {
            Version = HttpVersion.Version20,
            VersionPolicy = HttpVersionPolicy.RequestVersionExact,
            Content = content,
        };
        content.Headers.ContentType = GrpcMediaType;
        var headers = request.Headers;
        headers.TryAddWithoutValidation("te", "trailers");
        headers.TryAddWithoutValidation(GrpcProtocol.AcceptEncodingHeader, GrpcProtocol.SupportedEncodings);
        headers.TryAddWithoutValidation("user-agent", "hamaster-grpc-dotnet/1.0");
        if (_options.Timeout is { } timeout)
        {
            headers.TryAddWithoutValidation(GrpcProtocol.TimeoutHeader, GrpcTimeout.Format(timeout));
        }

        if (_options.Headers is { } metadata)
        {
            foreach (var (key, value) in metadata)
            {
                headers.TryAddWithoutValidation(key, value);
            }
        }

        return request;
    }

    /// <summary>Sends the request and checks the response head; throws GrpcException for trailers-only or HTTP errors.</summary>
    public async ValueTask StartAsync(HttpRequestMessage request)
    {
        try
        {
            _response = await _channel.Invoker.SendAsync(request, Token).ConfigureAwait(false);
        }
        catch (Exception ex)
        {
            throw Fail(ex);
        }

        Headers = ReadMetadata(_response.Headers.NonValidated, _response.Content.Headers.NonValidated);
        if (_response.StatusCode != HttpStatusCode.OK)
        {
            var code = GrpcStatusMapper.FromHttpStatus((int)_response.StatusCode);
            throw new GrpcException(code, $"Bad gRPC response: HTTP status code {(int)_response.StatusCode}", Headers) { Headers = Headers };
        }

        // Trailers-only response: the status is in the header block and there is no body.
        if (TryGetHeader(_response.Headers.NonValidated, GrpcProtocol.StatusHeader) is { } statusText)
        {
            var status = ParseStatus(statusText, TryGetHeader(_response.Headers.NonValidated, GrpcProtocol.MessageHeader));
            if (status.Code != StatusCode.OK)
            {
                throw new GrpcException(status.Code, status.Detail, Headers) { Headers = Headers };
            }

            TrailersOnlyOk = true;
            return;
        }

        var contentType = _response.Content.Headers.ContentType?.MediaType;
        if (!GrpcProtocol.IsGrpcContentType(contentType))
        {
            throw new GrpcException(StatusCode.Unknown, $"Bad gRPC response: content-type '{contentType}'", Headers) { Headers = Headers };
        }
    }

    public async ValueTask<GrpcMessageReader<T>?> CreateReaderAsync<T>(MessageParser<T> parser)
        where T : IMessage<T>
    {
        if (TrailersOnlyOk || _response is null)
        {
            return null;
        }

        try
        {
            var stream = await _response.Content.ReadAsStreamAsync(Token).ConfigureAwait(false);
            _body = PipeReader.Create(stream, new StreamPipeReaderOptions(leaveOpen: true));
        }
        catch (Exception ex)
        {
            throw Fail(ex);
        }

        var encoding = TryGetHeader(_response.Headers.NonValidated, GrpcProtocol.EncodingHeader);
        return new GrpcMessageReader<T>(_body, parser, _channel.Options.MaxReceiveMessageBytes, encoding, isRequest: false);
    }

    /// <summary>Reads one message, mapping every failure (including a later non-OK status) to GrpcException.</summary>
    public async ValueTask<bool> MoveNextAsync<T>(GrpcMessageReader<T>? reader)
        where T : IMessage<T>
    {
        if (reader is null)
        {
            return false;
        }

        bool more;
        try
        {
            more = await reader.MoveNextAsync(Token).ConfigureAwait(false);
        }
        catch (GrpcException ex) when (ex.Status is StatusCode.ResourceExhausted or StatusCode.Internal)
        {
            // A local framing or size failure: abandon the stream so the server stops sending.
            throw WithHeaders(ex);
        }
        catch (Exception ex)
        {
            throw Fail(ex);
        }

        if (!more)
        {
            // The server may have ended the stream with an error status after the messages.
            EnsureSuccess();
        }

        return more;
    }

    /// <summary>After the body ended: the trailers, or GrpcException for a non-OK status.</summary>
    public Metadata EnsureSuccess()
    {
        if (TrailersOnlyOk)
        {
            return Headers;
        }

        var trailingHeaders = _response!.TrailingHeaders.NonValidated;
        var trailers = ReadMetadata(trailingHeaders, null);
        var statusText = TryGetHeader(trailingHeaders, GrpcProtocol.StatusHeader);
        if (statusText is null)
        {
            if (DeadlineExceeded)
            {
                throw new GrpcException(StatusCode.DeadlineExceeded, "Deadline exceeded", trailers) { Headers = Headers };
            }

            throw new GrpcException(StatusCode.Internal, "The response ended without a grpc-status trailer", trailers) { Headers = Headers };
        }

        var status = ParseStatus(statusText, TryGetHeader(trailingHeaders, GrpcProtocol.MessageHeader));
        if (status.Code != StatusCode.OK)
        {
            throw new GrpcException(status.Code, status.Detail, trailers) { Headers = Headers };
        }

        return trailers;
    }

    /// <summary>Maps a transport or cancellation failure to GrpcException (via <see cref="GrpcStatusMapper"/>).</summary>
    public GrpcException Fail(Exception exception) =>
        GrpcStatusMapper.FromClientException(exception, DeadlineExceeded, _options.CancellationToken.IsCancellationRequested, Headers);

    public void Dispose()
    {
        _body?.Complete();
        _response?.Dispose();
        _linkedCts?.Dispose();
        _deadlineCts?.Dispose();
    }

    private GrpcException WithHeaders(GrpcException ex) =>
        ex.Headers.Count == 0 && Headers.Count > 0
            ? new GrpcException(ex.Status, ex.Detail, ex.Trailers, ex) { Headers = Headers }
            : ex;

    private static GrpcStatus ParseStatus(string statusText, string? message)
    {
        var code = int.TryParse(statusText, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var value) && value is >= 0 and <= 16
            ? (StatusCode)value
            : StatusCode.Unknown;
        return new GrpcStatus(code, GrpcMessageEncoding.Decode(message));
    }

    private static string? TryGetHeader(HttpHeadersNonValidated headers, string name) =>
        headers.TryGetValues(name, out var values) ? values.ToString() : null;

    private static Metadata ReadMetadata(HttpHeadersNonValidated headers, HttpHeadersNonValidated? contentHeaders)
    {
        var metadata = new Metadata();
        Append(metadata, headers);
        if (contentHeaders is { } content)
        {
            Append(metadata, content);
        }

        return metadata;

        static void Append(Metadata metadata, HttpHeadersNonValidated headers)
        {
            foreach (var (name, values) in headers)
            {
                if (GrpcProtocol.IsReservedHeader(name) || string.Equals(name, "date", StringComparison.OrdinalIgnoreCase))
                {
                    continue;
                }

                foreach (var value in values)
                {
                    metadata.AddUnchecked(name, value);
                }
            }
        }
    }
}
