using Grpc.Core;

namespace HaMaster.Client;

/// <summary>
/// A call to the masters failed. <see cref="Status"/> is the gRPC status of the last attempt,
/// <see cref="Detail"/> the master's message and <see cref="Master"/> the address that gave that
/// answer (null when none was reached). Subclasses name the outcomes callers usually branch on;
/// <see cref="Create"/> picks the right one.
/// </summary>
public class HaMasterException : Exception
{
    public HaMasterException(StatusCode status, string detail, string? master = null, Exception? innerException = null)
        : base(FormatMessage(status, detail, master), innerException)
    {
        Status = status;
        Detail = detail;
        Master = master;
    }

    /// <summary>The gRPC status code of the failure.</summary>
    public StatusCode Status { get; }

    /// <summary>The master's explanation (grpc-message) or the transport error.</summary>
    public string Detail { get; }

    /// <summary>Address ("host:port") of the master that answered last, or null.</summary>
    public string? Master { get; }

    /// <summary>Number of attempts made for the call (1 when it was not retried).</summary>
    public int Attempts { get; init; } = 1;

    /// <summary>Whether retrying later could succeed (unavailable, deadline exceeded, aborted, resource exhausted).</summary>
    public bool IsTransient => Status is StatusCode.Unavailable or StatusCode.DeadlineExceeded or StatusCode.Aborted or StatusCode.ResourceExhausted;

    /// <summary>Maps a status to the most specific exception type.</summary>
    public static HaMasterException Create(StatusCode status, string detail, string? master, Exception? inner = null, int attempts = 1) => status switch
    {
        StatusCode.NotFound => new HaMasterNotFoundException(detail, master, inner) { Attempts = attempts },
        StatusCode.AlreadyExists => new HaMasterAlreadyExistsException(detail, master, inner) { Attempts = attempts },
        StatusCode.FailedPrecondition => new HaMasterFailedPreconditionException(detail, master, inner) { Attempts = attempts },
        StatusCode.InvalidArgument => new HaMasterInvalidArgumentException(detail, master, inner) { Attempts = attempts },
        StatusCode.PermissionDenied or StatusCode.Unauthenticated => new HaMasterPermissionDeniedException(status, detail, master, inner) { Attempts = attempts },
        StatusCode.Unavailable or StatusCode.DeadlineExceeded => new HaMasterUnavailableException(status, detail, master, inner) { Attempts = attempts },
        _ => new HaMasterException(status, detail, master, inner) { Attempts = attempts },
    };

    private static string FormatMessage(StatusCode status, string detail, string? master) =>
        master is null ? $"{status}: {detail}" : $"{status}: {detail} (master {master})";
}

/// <summary>The path, block, worker or master does not exist (NOT_FOUND).</summary>
public sealed class HaMasterNotFoundException(string detail, string? master = null, Exception? inner = null)
    : HaMasterException(StatusCode.NotFound, detail, master, inner);

/// <summary>The path already exists (ALREADY_EXISTS).</summary>
public sealed class HaMasterAlreadyExistsException(string detail, string? master = null, Exception? inner = null)
    : HaMasterException(StatusCode.AlreadyExists, detail, master, inner);

/// <summary>The operation does not apply in the current state, e.g. a non-empty directory (FAILED_PRECONDITION).</summary>
public sealed class HaMasterFailedPreconditionException(string detail, string? master = null, Exception? inner = null)
    : HaMasterException(StatusCode.FailedPrecondition, detail, master, inner);

/// <summary>A path or field is malformed (INVALID_ARGUMENT).</summary>
public sealed class HaMasterInvalidArgumentException(string detail, string? master = null, Exception? inner = null)
    : HaMasterException(StatusCode.InvalidArgument, detail, master, inner);

/// <summary>The caller may not do this (PERMISSION_DENIED or UNAUTHENTICATED).</summary>
public sealed class HaMasterPermissionDeniedException(StatusCode status, string detail, string? master = null, Exception? inner = null)
    : HaMasterException(status, detail, master, inner);

/// <summary>No master could serve the call within the retry budget (UNAVAILABLE or DEADLINE_EXCEEDED).</summary>
public sealed class HaMasterUnavailableException(StatusCode status, string detail, string? master = null, Exception? inner = null)
    : HaMasterException(status, detail, master, inner);
