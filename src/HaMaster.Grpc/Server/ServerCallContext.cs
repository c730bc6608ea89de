using Microsoft.AspNetCore.Http;

namespace HaMaster.Grpc;

/// <summary>
/// Everything a handler or interceptor may know about one server call. Created by the pipeline per
/// call; its metadata collections are not thread-safe (a call's handler is the only writer).
/// </summary>
public sealed class ServerCallContext
{
    private readonly CancellationToken _deadlineToken;

    internal ServerCallContext(HttpContext httpContext, string method, Metadata requestHeaders, DateTimeOffset? deadline, CancellationToken cancellationToken, CancellationToken deadlineToken)
    {
        _deadlineToken = deadlineToken;
        HttpContext = httpContext;
        Method = method;
        RequestHeaders = requestHeaders;
        Deadline = deadline;
        CancellationToken = cancellationToken;
        var connection = httpContext.Connection;
        Peer = connection.RemoteIpAddress is { } ip
            ? $"{(ip.AddressFamily == System.Net.Sockets.AddressFamily.InterNetworkV6 ? "ipv6:[" + ip + "]" : "ipv4:" + ip)}:{connection.RemotePort}"
            : "unknown";
    }

    /// <summary>The full method path, e.g. "/hamaster.v1.FileSystem/GetStatus".</summary>
    public string Method { get; }

    /// <summary>Application metadata sent by the client (protocol headers removed).</summary>
    public Metadata RequestHeaders { get; }

    /// <summary>Metadata sent with the response headers; only effective before the first message is written.</summary>
    public Metadata ResponseHeaders { get; } = new();

    /// <summary>Metadata sent in the trailers, on success and on failure (e.g. <c>hamaster-leader</c>).</summary>
    public Metadata ResponseTrailers { get; } = new();

    /// <summary>When the client's <c>grpc-timeout</c> expires; null when the client set none.</summary>
    public DateTimeOffset? Deadline { get; }

    /// <summary>Fires when the deadline passes or the client cancels (RST_STREAM / disconnect).</summary>
    public CancellationToken CancellationToken { get; }

    /// <summary>True once the deadline has passed (the reason <see cref="CancellationToken"/> fired, if it did).</summary>
    public bool IsDeadlineExceeded => _deadlineToken.IsCancellationRequested;

    /// <summary>True once the client has cancelled the call or gone away.</summary>
    public bool IsCancelledByClient => HttpContext.RequestAborted.IsCancellationRequested;

    /// <summary>The client's address in gRPC's form, e.g. "ipv4:127.0.0.1:50123".</summary>
    public string Peer { get; }

    /// <summary>Per-call state shared between interceptors and the handler.</summary>
    public IDictionary<object, object?> Items { get; } = new Dictionary<object, object?>();

    /// <summary>The underlying ASP.NET Core context (TLS client certificate, connection id, ...).</summary>
    public HttpContext HttpContext { get; }
}
