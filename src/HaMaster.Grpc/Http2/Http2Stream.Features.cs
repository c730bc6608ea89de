using System.IO.Pipelines;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;

namespace HaMaster.Grpc.Http2;

/// <summary>The ASP.NET Core request features of a stream, so handlers see an ordinary <see cref="HttpContext"/>.</summary>
internal sealed partial class Http2Stream :
    IHttpRequestFeature,
    IHttpResponseFeature,
    IHttpResponseBodyFeature,
    IHttpResponseTrailersFeature,
    IHttpRequestLifetimeFeature,
    IRequestBodyPipeFeature,
    IHttpRequestBodyDetectionFeature
{
    private HttpContext? _httpContext;
    private Stream? _requestStream;
    private Stream? _responseStream;
    private List<(Func<object, Task> Callback, object State)>? _onStarting;
    private List<(Func<object, Task> Callback, object State)>? _onCompleted;

    public HttpContext HttpContext => _httpContext ??= CreateContext();

    public Http2RequestBodyReader RequestReader { get; }

    public HeaderDictionary RequestHeaders { get; }

    public IHeaderDictionary ResponseHeaders { get; } = new HeaderDictionary();

    /// <summary>True once the response can no longer change its status or headers (HasStarted).</summary>
    public bool ResponseCommitted { get; private set; }

    public string Protocol { get; set; } = "HTTP/2";

    public string Scheme { get; set; }

    public string Method { get; set; }

    public string PathBase { get; set; } = string.Empty;

    public string Path { get; set; }

    public string QueryString { get; set; }

    public string RawTarget { get; set; }

    IHeaderDictionary IHttpRequestFeature.Headers
    {
        get => RequestHeaders;
        set => throw new NotSupportedException("Request headers cannot be replaced.");
    }

    Stream IHttpRequestFeature.Body
    {
        get => _requestStream ??= RequestReader.AsStream();
        set => _requestStream = value;
    }

    PipeReader IRequestBodyPipeFeature.Reader => RequestReader;

    bool IHttpRequestBodyDetectionFeature.CanHaveBody => true;

    public int StatusCode { get; set; } = StatusCodes.Status200OK;

    public string? ReasonPhrase { get; set; }

    IHeaderDictionary IHttpResponseFeature.Headers
    {
        get => ResponseHeaders;
        set => throw new NotSupportedException("Response headers cannot be replaced.");
    }

    [Obsolete("Use IHttpResponseBodyFeature.Stream.")]
    Stream IHttpResponseFeature.Body
    {
        get => ((IHttpResponseBodyFeature)this).Stream;
        set => throw new NotSupportedException("The response body cannot be replaced.");
    }

    bool IHttpResponseFeature.HasStarted => ResponseCommitted;

    Stream IHttpResponseBodyFeature.Stream => _responseStream ??= _responseBody.AsStream();

    PipeWriter IHttpResponseBodyFeature.Writer => _responseBody;

    public IHeaderDictionary Trailers { get; set; } = new HeaderDictionary();

    public CancellationToken RequestAborted
    {
        get => _aborted.Token;
        set => throw new NotSupportedException("The abort token cannot be replaced.");
    }

    void IHttpResponseFeature.OnStarting(Func<object, Task> callback, object state) => (_onStarting ??= []).Add((callback, state));

    void IHttpResponseFeature.OnCompleted(Func<object, Task> callback, object state) => (_onCompleted ??= []).Add((callback, state));

    void IHttpResponseBodyFeature.DisableBuffering()
    {
    }

    async Task IHttpResponseBodyFeature.StartAsync(CancellationToken cancellationToken) => await CommitAsync().ConfigureAwait(false);

    Task IHttpResponseBodyFeature.SendFileAsync(string path, long offset, long? count, CancellationToken cancellationToken) =>
        SendFileFallback.SendFileAsync(((IHttpResponseBodyFeature)this).Stream, path, offset, count, cancellationToken);

    async Task IHttpResponseBodyFeature.CompleteAsync() => await EndResponseAsync().ConfigureAwait(false);

    /// <summary>The handler (or the server) aborts the exchange: RST_STREAM CANCEL.</summary>
    public void Abort()
    {
        if (Abandon())
        {
            _ = _connection.Output.WriteRstStreamAsync(Id, Http2ErrorCode.Cancel).AsTask();
        }
    }

    private async ValueTask CommitAsync()
    {
        if (ResponseCommitted)
        {
            return;
        }

        ResponseCommitted = true;
        if (_onStarting is { } callbacks)
        {
            _onStarting = null;
            for (var i = callbacks.Count - 1; i >= 0; i--)
            {
                await callbacks[i].Callback(callbacks[i].State).ConfigureAwait(false);
            }
        }
    }

    private async ValueTask RunOnCompletedAsync()
    {
        if (_onCompleted is { } callbacks)
        {
            _onCompleted = null;
            for (var i = callbacks.Count - 1; i >= 0; i--)
            {
                try
                {
                    await callbacks[i].Callback(callbacks[i].State).ConfigureAwait(false);
                }
                catch (Exception ex)
                {
                    _connection.OnApplicationFailure(this, ex);
                }
            }
        }
    }

    private DefaultHttpContext CreateContext()
    {
        var features = new FeatureCollection(12);
        features.Set<IHttpRequestFeature>(this);
        features.Set<IHttpResponseFeature>(this);
        features.Set<IHttpResponseBodyFeature>(this);
        features.Set<IHttpResponseTrailersFeature>(this);
        features.Set<IHttpRequestLifetimeFeature>(this);
        features.Set<IRequestBodyPipeFeature>(this);
        features.Set<IHttpRequestBodyDetectionFeature>(this);
        features.Set<IHttpConnectionFeature>(_connection.ConnectionFeature);
        if (_connection.TlsFeature is { } tls)
        {
            features.Set(tls);
        }

        return new DefaultHttpContext(features);
    }
}
