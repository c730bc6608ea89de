namespace HaMaster.Grpc;

/// <summary>
/// The one exception type of the gRPC layer: thrown by handlers to end a call with a status, and
/// surfaced by <see cref="HaMaster.Grpc.GrpcChannel"/> for every non-OK outcome (including transport failures,
/// which map to <see cref="StatusCode.Unavailable"/>).
/// </summary>
public sealed class GrpcException : Exception
{
    public GrpcException(StatusCode status, string detail, Metadata? trailers = null)
        : this(status, detail, trailers, null)
    {
    }

    public GrpcException(StatusCode status, string detail, Metadata? trailers, Exception? innerException)
        : base(FormatMessage(status, detail), innerException)
    {
        Status = status;
        Detail = detail ?? string.Empty;
        Trailers = trailers ?? new Metadata();
    }

    /// <summary>The call's status code.</summary>
    public StatusCode Status { get; }

    /// <summary>The human-readable status message (decoded <c>grpc-message</c>).</summary>
    public string Detail { get; }

    /// <summary>
    /// Trailing metadata. Server side: sent to the client in addition to the call context's
    /// <see cref="ServerCallContext.ResponseTrailers"/>. Client side: what the server sent
    /// (for trailers-only responses, the header block).
    /// </summary>
    public Metadata Trailers { get; }

    /// <summary>Response headers received before the failure (client side; empty when none arrived).</summary>
    public Metadata Headers { get; init; } = new();

    private static string FormatMessage(StatusCode status, string? detail) =>
        $"Status(StatusCode=\"{status}\", Detail=\"{detail}\")";
}
