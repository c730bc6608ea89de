using Microsoft.Extensions.Logging;

namespace HaMaster.Grpc;

/// <summary>Source-generated log messages of the gRPC layer.</summary>
internal static partial class Log
{
    [LoggerMessage(EventId = 1, Level = LogLevel.Error, Message = "gRPC call {Method} failed with an unexpected exception; answered INTERNAL")]
    public static partial void UnexpectedHandlerException(ILogger logger, string method, Exception exception);

    [LoggerMessage(EventId = 2, Level = LogLevel.Debug, Message = "gRPC call {Method} ended with {Status}: {Detail}")]
    public static partial void CallFailed(ILogger logger, string method, StatusCode status, string detail);

    [LoggerMessage(EventId = 3, Level = LogLevel.Debug, Message = "gRPC call {Method} cancelled by the client")]
    public static partial void CallCancelledByClient(ILogger logger, string method);

    [LoggerMessage(EventId = 4, Level = LogLevel.Debug, Message = "Ignoring malformed grpc-timeout '{Value}' on {Method}")]
    public static partial void MalformedTimeout(ILogger logger, string method, string value);

    [LoggerMessage(EventId = 5, Level = LogLevel.Debug, Message = "Could not send the status of {Method}: the stream is gone")]
    public static partial void StatusNotSent(ILogger logger, string method, Exception exception);

    [LoggerMessage(EventId = 6, Level = LogLevel.Debug, Message = "HTTP/2 connection {ConnectionId} ended with {Code}: {Detail}")]
    public static partial void ProtocolError(ILogger logger, string connectionId, Http2.Http2ErrorCode code, string detail);

    [LoggerMessage(EventId = 7, Level = LogLevel.Debug, Message = "Connection {ConnectionId} did not start with the HTTP/2 preface; closed")]
    public static partial void BadPreface(ILogger logger, string connectionId);

    [LoggerMessage(EventId = 8, Level = LogLevel.Error, Message = "Request handler failed on connection {ConnectionId} stream {StreamId}")]
    public static partial void ApplicationError(ILogger logger, string connectionId, int streamId, Exception exception);

    [LoggerMessage(EventId = 9, Level = LogLevel.Debug, Message = "Malformed request on connection {ConnectionId} stream {StreamId}: {Reason}; stream reset")]
    public static partial void MalformedRequest(ILogger logger, string connectionId, int streamId, string reason);

    [LoggerMessage(EventId = 10, Level = LogLevel.Debug, Message = "Connection {ConnectionId} sent no HTTP/2 preface within {TimeoutMs} ms; closed")]
    public static partial void HandshakeTimedOut(ILogger logger, string connectionId, long timeoutMs);

    [LoggerMessage(EventId = 11, Level = LogLevel.Debug, Message = "Connection {ConnectionId} without a stream for {IdleMs} ms; GOAWAY")]
    public static partial void IdleClosed(ILogger logger, string connectionId, long idleMs);

    [LoggerMessage(EventId = 12, Level = LogLevel.Information, Message = "Connection {ConnectionId} silent for {SilentMs} ms and did not answer a keep-alive PING; closed")]
    public static partial void KeepAliveTimedOut(ILogger logger, string connectionId, long silentMs);

    [LoggerMessage(EventId = 13, Level = LogLevel.Information, Message = "Connection {ConnectionId} stream {StreamId} got no flow-control window for {TimeoutMs} ms; stream reset")]
    public static partial void SendWindowStalled(ILogger logger, string connectionId, int streamId, long timeoutMs);
}
