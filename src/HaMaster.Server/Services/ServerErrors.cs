using HaMaster.Grpc;
using HaMaster.Journal;
using HaMaster.Protos.V1;
using HaMaster.Server.Raft;

namespace HaMaster.Server.Services;

/// <summary>The one place that turns the master's failures into gRPC statuses with clear messages.</summary>
internal static class ServerErrors
{
    public static GrpcException ToGrpc(Exception e) => e switch
    {
        GrpcException g => g,
        NotLeaderException n => new GrpcException(StatusCode.Unavailable, n.Message),
        ProposalLostException p => new GrpcException(StatusCode.Unavailable, p.Message),
        ProposalOutcomeUnknownException p => new GrpcException(StatusCode.Unavailable, p.Message),
        ClusterPreconditionException c => new GrpcException(StatusCode.FailedPrecondition, c.Message),
        JournalFailedException j => new GrpcException(StatusCode.Unavailable, $"this master cannot write its journal ({j.Message}); use another master"),
        IOException io => new GrpcException(StatusCode.Unavailable, $"storage error on this master: {io.Message}"),
        ArgumentException a => new GrpcException(StatusCode.InvalidArgument, a.Message),
        TimeoutException t => new GrpcException(StatusCode.DeadlineExceeded, t.Message),
        _ => new GrpcException(StatusCode.Internal, $"internal error: {e.GetType().Name}: {e.Message}"),
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
        if (result.Status != MetadataStatus.Ok) throw new GrpcException(ToStatusCode(result.Status), result.Message);
        return result;
    }

    public static GrpcException InvalidPath(string field, string problem) =>
        new(StatusCode.InvalidArgument, $"invalid {field}: {problem}");
}
