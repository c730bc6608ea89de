using System.Runtime.CompilerServices;
using Google.Protobuf;

namespace HaMaster.Grpc;

/// <summary>
/// A client connection pool to one gRPC server: one <see cref="SocketsHttpHandler"/> multiplexing
/// many concurrent calls as HTTP/2 streams (cleartext prior-knowledge h2c for http://, TLS for
/// https://). Thread-safe: share one channel per server address for the process lifetime.
/// </summary>
public sealed class GrpcChannel : IDisposable
{
    public GrpcChannel(Uri address, GrpcChannelOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(address);
        if (address.Scheme != Uri.UriSchemeHttp && address.Scheme != Uri.UriSchemeHttps)
        {
            throw new ArgumentException($"gRPC addresses are http:// or https://, got '{address}'.", nameof(address));
        }

        Address = address;
        Options = (options ?? new GrpcChannelOptions()).Validate();
        var handler = new SocketsHttpHandler
        {
            EnableMultipleHttp2Connections = Options.EnableMultipleHttp2Connections,
            PooledConnectionLifetime = Options.PooledConnectionLifetime,
            PooledConnectionIdleTimeout = Options.PooledConnectionIdleTimeout,
            KeepAlivePingDelay = Options.KeepAlivePingDelay,
            KeepAlivePingTimeout = Options.KeepAlivePingTimeout,
            KeepAlivePingPolicy = HttpKeepAlivePingPolicy.WithActiveRequests,
            ConnectTimeout = Options.ConnectTimeout,
            UseProxy = false,
            UseCookies = false,
            AllowAutoRedirect = false,
            AutomaticDecompression = System.Net.DecompressionMethods.None,
            InitialHttp2StreamWindowSize = 1 << 20,
        };
        if (Options.Tls is { } tls)
        {
            handler.SslOptions = tls;
        }

        Invoker = new HttpMessageInvoker(handler, disposeHandler: true);
    }

    public Uri Address { get; }

    public GrpcChannelOptions Options { get; }

    internal HttpMessageInvoker Invoker { get; }

    /// <summary>
    /// A unary call. Returns the response with headers and trailers; throws <see cref="GrpcException"/>
    /// for every non-OK outcome (its Trailers carry e.g. <c>hamaster-leader</c>).
    /// </summary>
    public async ValueTask<GrpcResponse<TResp>> UnaryAsync<TReq, TResp>(string fullMethod, TReq request, MessageParser<TResp> parser, CallOptions? options = null)
        where TReq : IMessage<TReq>
        where TResp : IMessage<TResp>
    {
        ArgumentNullException.ThrowIfNull(parser);
        using var call = new GrpcClientCall(this, fullMethod, options);
        using var httpRequest = call.CreateRequest(new UnaryRequestContent<TReq>(request, Options.MaxSendMessageBytes));
        await call.StartAsync(httpRequest).ConfigureAwait(false);
        var reader = await call.CreateReaderAsync(parser).ConfigureAwait(false);
        if (!await call.MoveNextAsync(reader).ConfigureAwait(false))
        {
            throw new GrpcException(StatusCode.Internal, "The server ended a unary call without a response message", call.EnsureSuccess()) { Headers = call.Headers };
        }

        var message = reader!.Current;
        if (await call.MoveNextAsync(reader).ConfigureAwait(false))
        {
            throw new GrpcException(StatusCode.Internal, "The server sent more than one response message for a unary call") { Headers = call.Headers };
        }

        return new GrpcResponse<TResp>(message, call.Headers, call.EnsureSuccess());
    }

    /// <summary>
    /// A server-streaming call: messages are yielded as they arrive; a non-OK final status is thrown
    /// as <see cref="GrpcException"/> after the last message. Stopping the enumeration early (or
    /// cancelling) resets the stream, which cancels the server handler.
    /// </summary>
    public IAsyncEnumerable<TResp> ServerStreamingAsync<TReq, TResp>(string fullMethod, TReq request, MessageParser<TResp> parser, CallOptions? options = null)
        where TReq : IMessage<TReq>
        where TResp : IMessage<TResp>
    {
        ArgumentNullException.ThrowIfNull(parser);
        return ServerStreamingCoreAsync(fullMethod, request, parser, options, CancellationToken.None);
    }

    /// <summary>
    /// Starts a server-streaming call that exposes response headers and trailers as well as the
    /// messages. Dispose it when done (disposing early cancels the call).
    /// </summary>
    public ServerStreamingCall<TResp> ServerStreaming<TReq, TResp>(string fullMethod, TReq request, MessageParser<TResp> parser, CallOptions? options = null)
        where TReq : IMessage<TReq>
        where TResp : IMessage<TResp>
    {
        ArgumentNullException.ThrowIfNull(parser);
        return new ServerStreamingCall<TResp>(this, fullMethod, new UnaryRequestContent<TReq>(request, Options.MaxSendMessageBytes), parser, options);
    }

    /// <summary>
    /// Starts a client-streaming call: write messages with <see cref="ClientStreamingCall{TReq,TResp}.WriteAsync"/>,
    /// then <see cref="ClientStreamingCall{TReq,TResp}.CompleteAsync"/> for the response. Dispose to abandon it.
    /// </summary>
    public ClientStreamingCall<TReq, TResp> ClientStreaming<TReq, TResp>(string fullMethod, MessageParser<TResp> parser, CallOptions? options = null)
        where TReq : IMessage<TReq>
        where TResp : IMessage<TResp>
    {
        ArgumentNullException.ThrowIfNull(parser);
        return new ClientStreamingCall<TReq, TResp>(this, new GrpcClientCall(this, fullMethod, options), parser);
    }

    /// <summary>Starts a bidirectional streaming call. Dispose it when done.</summary>
    public DuplexStreamingCall<TReq, TResp> DuplexStreaming<TReq, TResp>(string fullMethod, MessageParser<TResp> parser, CallOptions? options = null)
        where TReq : IMessage<TReq>
        where TResp : IMessage<TResp>
    {
        ArgumentNullException.ThrowIfNull(parser);
        return new DuplexStreamingCall<TReq, TResp>(this, fullMethod, parser, options);
    }

    public void Dispose() => Invoker.Dispose();

    private async IAsyncEnumerable<TResp> ServerStreamingCoreAsync<TReq, TResp>(
        string fullMethod,
        TReq request,
        MessageParser<TResp> parser,
        CallOptions? options,
        [EnumeratorCancellation] CancellationToken enumeratorToken)
        where TReq : IMessage<TReq>
        where TResp : IMessage<TResp>
    {
        var effective = options ?? new CallOptions();
        using var linked = enumeratorToken.CanBeCanceled
            ? CancellationTokenSource.CreateLinkedTokenSource(enumeratorToken, effective.CancellationToken)
            : null;
        if (linked is not null)
        {
            effective = effective with { CancellationToken = linked.Token };
        }

        using var call = new GrpcClientCall(this, fullMethod, effective);
        using var httpRequest = call.CreateRequest(new UnaryRequestContent<TReq>(request, Options.MaxSendMessageBytes));
        await call.StartAsync(httpRequest).ConfigureAwait(false);
        var reader = await call.CreateReaderAsync(parser).ConfigureAwait(false);
        while (await call.MoveNextAsync(reader).ConfigureAwait(false))
        {
            yield return reader!.Current;
        }
    }
}
