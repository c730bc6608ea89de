using Grpc.Core;

namespace HaMaster.Client;

/// <summary>How safe a call is to retry, which decides the statuses that trigger a retry.</summary>
internal enum CallKind
{
    /// <summary>Reads and heartbeats: idempotent, retried on UNAVAILABLE and DEADLINE_EXCEEDED.</summary>
    Read,

    /// <summary>Writes carrying a <c>ClientSession</c>: a retry reuses the sequence, so the master applies it once.</summary>
    SessionWrite,

    /// <summary>Admin changes without a session: retried only on UNAVAILABLE (the master did not take them).</summary>
    Admin,
}

internal static class CallKindExtensions
{
    public static bool IsRetryable(this CallKind kind, StatusCode status) => status switch
    {
        StatusCode.Unavailable => true,
        StatusCode.DeadlineExceeded => kind is CallKind.Read or CallKind.SessionWrite,
        _ => false,
    };
}
