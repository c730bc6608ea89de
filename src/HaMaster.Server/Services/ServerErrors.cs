using Grpc.Core;
using HaMaster.Journal;
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
        JournalFailedException j => Status(StatusCode.Unavailable, $"this master cannot write its journal ({j.Message}); use another master"),
        IOException io => Status(StatusCode.Unavailable, $"storage error on this master: {io.Message}"),
        ArgumentException a => Status(StatusCode.InvalidArgument, a.Message),
        TimeoutException t => Status(StatusCode.DeadlineExceeded, t.Message),
        // Our own time limit (the server's default call timeout) fired, not the client's.
        OperationCanceledException => Status(StatusCode.DeadlineExceeded, "the call did not complete within the master's call timeout"),
        _ => Status(StatusCode.Internal, $"internal error: {e.GetType().Name}: {e.Message}"),
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

    public static RpcException InvalidPath(string field, string problem) =>
        Status(StatusCode.InvalidArgument, $"invalid {field}: {problem}");

    /// <summary>A refusal with a status and a reason (no trailers: the interceptors add those).</summary>
    public static RpcException Status(StatusCode code, string detail) => new(new Grpc.Core.Status(code, detail));
}
