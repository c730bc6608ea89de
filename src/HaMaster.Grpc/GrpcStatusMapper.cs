using System.Net.Http;
using System.Net.Sockets;

namespace HaMaster.Grpc;

/// <summary>How a call ended, as the wire carries it.</summary>
public readonly record struct GrpcStatus(StatusCode Code, string Detail)
{
    public static GrpcStatus Ok { get; } = new(StatusCode.OK, string.Empty);
}

/// <summary>
/// The one place that turns exceptions into gRPC statuses, for the server (handler failures) and
/// the client (transport failures). Every other component throws or catches
/// <see cref="GrpcException"/> and lets this class decide the code.
/// </summary>
public static class GrpcStatusMapper
{
    /// <summary>Detail sent for unexpected server exceptions: the real message stays in the server log.</summary>
    public const string UnexpectedErrorDetail = "Exception was thrown by handler.";

    /// <summary>
    /// Server side: the status for an exception that escaped a handler or the call pipeline.
    /// <paramref name="deadlineExceeded"/> and <paramref name="clientCancelled"/> describe the call's state
    /// when it failed; they win over a cancellation exception's type. <paramref name="isUnexpected"/>
    /// tells the caller to log the exception (INTERNAL with a safe message).
    /// </summary>
    public static GrpcStatus FromServerException(Exception exception, bool deadlineExceeded, bool clientCancelled, out bool isUnexpected)
    {
        ArgumentNullException.ThrowIfNull(exception);
        isUnexpected = false;
        switch (exception)
        {
            case GrpcException grpc:
                return new(grpc.Status, grpc.Detail);
            case OperationCanceledException or IOException when deadlineExceeded:
                return new(StatusCode.DeadlineExceeded, "Deadline exceeded");
            case OperationCanceledException or IOException when clientCancelled:
                return new(StatusCode.Cancelled, "Call cancelled by the client");
            case OperationCanceledException:
                return new(StatusCode.Cancelled, "Call cancelled");
            case ArgumentException argument:
                return new(StatusCode.InvalidArgument, argument.Message);
            case NotImplementedException or NotSupportedException:
                return new(StatusCode.Unimplemented, exception.Message);
            case TimeoutException:
                return new(StatusCode.DeadlineExceeded, exception.Message);
            default:
                isUnexpected = true;
                return new(StatusCode.Internal, UnexpectedErrorDetail);
        }
    }

    /// <summary>
    /// Client side: the exception to surface for a failure of the HTTP/2 exchange. Existing
    /// <see cref="GrpcException"/>s pass through unchanged.
    /// </summary>
    public static GrpcException FromClientException(Exception exception, bool deadlineExceeded, bool userCancelled, Metadata? headers = null)
    {
        ArgumentNullException.ThrowIfNull(exception);
        var empty = headers ?? new Metadata();
        return exception switch
        {
            GrpcException grpc => grpc,
            _ when deadlineExceeded => new GrpcException(StatusCode.DeadlineExceeded, "Deadline exceeded", null, exception) { Headers = empty },
            _ when userCancelled => new GrpcException(StatusCode.Cancelled, "Call cancelled", null, exception) { Headers = empty },
            HttpProtocolException protocol => new GrpcException(FromHttp2ErrorCode(protocol.ErrorCode), $"HTTP/2 stream error {protocol.ErrorCode}: {protocol.Message}", null, exception) { Headers = empty },
            HttpRequestException or SocketException => new GrpcException(StatusCode.Unavailable, $"Error connecting or talking to the server: {exception.Message}", null, exception) { Headers = empty },
            IOException => new GrpcException(StatusCode.Unavailable, $"Connection error: {exception.Message}", null, exception) { Headers = empty },
            OperationCanceledException => new GrpcException(StatusCode.Cancelled, "Call cancelled", null, exception) { Headers = empty },
            _ => new GrpcException(StatusCode.Internal, $"Unexpected client error: {exception.Message}", null, exception) { Headers = empty },
        };
    }

    /// <summary>The gRPC spec's table from HTTP status to gRPC status, for responses that are not 200.</summary>
    public static StatusCode FromHttpStatus(int httpStatus) => httpStatus switch
    {
        400 => StatusCode.Internal,
        401 => StatusCode.Unauthenticated,
        403 => StatusCode.PermissionDenied,
        404 => StatusCode.Unimplemented,
        429 or 502 or 503 or 504 => StatusCode.Unavailable,
        _ => StatusCode.Unknown,
    };

    /// <summary>The gRPC spec's table from HTTP/2 RST_STREAM error codes to gRPC status.</summary>
    public static StatusCode FromHttp2ErrorCode(long errorCode) => errorCode switch
    {
        0x7 => StatusCode.Unavailable,       // REFUSED_STREAM: safe to retry
        0x8 => StatusCode.Cancelled,         // CANCEL
        0xb => StatusCode.ResourceExhausted, // ENHANCE_YOUR_CALM
        0xc => StatusCode.PermissionDenied,  // INADEQUATE_SECURITY
        _ => StatusCode.Internal,
    };
}
