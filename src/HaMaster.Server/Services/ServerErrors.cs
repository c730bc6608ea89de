using Grpc.Core;
using HaMaster.Journal;
using HaMaster.Metadata;
using HaMaster.Protos.V1;
using HaMaster.Server.Raft;

namespace HaMaster.Server.Services;

/// <summary>
/// The one place that turns the master's failures into gRPC statuses with clear messages. Applied
/// to every call by <see cref="ErrorStatusInterceptor"/>; handlers throw domain exceptions (or an
/// <see cref="RpcException"/> for a request they refuse) and never pick a code for them.
/// </summary>
internal static class ServerErrors
{
    public static RpcException ToRpc(Exception e) => e switch
    {
        RpcException r => r,
        NotLeaderException n => Status(StatusCode.Unavailable, n.Message),
        ProposalLostException p => Status(StatusCode.Unavailable, p.Message),
        ProposalOutcomeUnknownException p => Status(StatusCode.Unavailable, p.Message),
        ClusterPreconditionException c => Status(StatusCode.FailedPrecondition, c.Message),
        HaMaster.Ufs.UfsException u => Status(ToStatusCode(u.Kind), u.Message),
        JournalFailedException => Status(StatusCode.Unavailable, "this master cannot write its journal; use another master"),
        // The text of framework exceptions (file names, parameter names, .NET wording) stays in
        // this master's log: callers get a fixed sentence. Bad input is refused by the admission
        // checks (RequestChecks) with its own message; an ArgumentException that gets this far is
        // a bug of the master, not of the caller.
        IOException => Status(StatusCode.Unavailable, "storage error on this master (see its log); use another master"),
        TimeoutException => Status(StatusCode.DeadlineExceeded, "the call timed out on the master"),
        // Our own time limit (the server's default call timeout) fired, not the client's.
        OperationCanceledException => Status(StatusCode.DeadlineExceeded, "the call did not complete within the master's call timeout"),
        _ => Status(StatusCode.Internal, "internal error on the master (see its log)"),
    };

    /// <summary>Whether the master should log <paramref name="e"/> when it maps it (its text was withheld from the caller).</summary>
    public static bool ShouldLog(Exception e) => e is not (RpcException or NotLeaderException or ProposalLostException
        or ProposalOutcomeUnknownException or ClusterPreconditionException or OperationCanceledException or HaMaster.Ufs.UfsException);

    /// <summary>A mounted store's failure: each kind has one status (issue 18).</summary>
    public static StatusCode ToStatusCode(HaMaster.Ufs.UfsErrorKind kind) => kind switch
    {
        HaMaster.Ufs.UfsErrorKind.NotFound => StatusCode.NotFound,
        HaMaster.Ufs.UfsErrorKind.AlreadyExists => StatusCode.AlreadyExists,
        HaMaster.Ufs.UfsErrorKind.PermissionDenied => StatusCode.PermissionDenied,
        HaMaster.Ufs.UfsErrorKind.Unavailable => StatusCode.Unavailable,
        HaMaster.Ufs.UfsErrorKind.InvalidArgument => StatusCode.InvalidArgument,
        HaMaster.Ufs.UfsErrorKind.FailedPrecondition => StatusCode.FailedPrecondition,
        _ => StatusCode.Internal,
    };

    public static StatusCode ToStatusCode(MetadataStatus status) => status switch
    {
        MetadataStatus.Ok => StatusCode.OK,
        MetadataStatus.InvalidArgument => StatusCode.InvalidArgument,
        MetadataStatus.NotFound => StatusCode.NotFound,
        MetadataStatus.AlreadyExists => StatusCode.AlreadyExists,
        MetadataStatus.FailedPrecondition => StatusCode.FailedPrecondition,
        MetadataStatus.PermissionDenied => StatusCode.PermissionDenied,
        _ => StatusCode.Internal,
    };

    /// <summary>Throws the status of a failed command result; returns it when OK.</summary>
    public static CommandResult EnsureOk(CommandResult result)
    {
        if (result.Status != MetadataStatus.Ok) throw Status(ToStatusCode(result.Status), result.Message);
        return result;
    }

    /// <summary>The value of an OK read; a failed read's status (the read-side twin of <see cref="EnsureOk"/>).</summary>
    public static T Unwrap<T>(MetadataResult<T> result)
        where T : class
    {
        if (!result.IsOk) throw Status(ToStatusCode(result.Status), result.Message);
        return result.Value!;
    }

    /// <summary>
    /// The leader's verdict on a forwarded call, passed through unchanged (its status and message).
    /// Its trailers are dropped: this master's own interceptor adds the leader trailer.
    /// </summary>
    public static RpcException FromLeader(RpcException leaderError) => new(leaderError.Status);

    public static RpcException InvalidPath(string field, string problem) =>
        Status(StatusCode.InvalidArgument, $"invalid {field}: {problem}");

    /// <summary>A refusal with a status and a reason (no trailers: the interceptors add those).</summary>
    public static RpcException Status(StatusCode code, string detail) => new(new Grpc.Core.Status(code, detail));
}
