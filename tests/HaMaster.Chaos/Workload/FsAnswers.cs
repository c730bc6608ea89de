using HaMaster.Chaos.Core.History;
using HaMaster.Chaos.Core.Models;
using Grpc.Core;
using HaMaster.Protos.V1;

namespace HaMaster.Chaos.Workload;

/// <summary>What became of one call: the history outcome, the model answer when there is one, the error text otherwise.</summary>
public readonly record struct CallResult(OpOutcome Outcome, FsOutput? Output, string? Error)
{
    public static CallResult Answered(FsOutput output) => new(OpOutcome.Ok, output, null);
}

/// <summary>
/// Maps the master's answers onto the model's (<see cref="FsModel"/>). The workload only makes
/// calls whose refusals are unambiguous: rename destinations are always direct children of a
/// top-level directory that exists (so NOT_FOUND on rename means the source), a rename never
/// targets its own source or subtree, and paths are at most three levels deep (so a
/// FAILED_PRECONDITION "not a directory" on create names the parent). A walk through a file is
/// "does not exist" in the model. Transport failures are "unknown" for writes (they may have
/// been applied, now or later) and "failed" for reads (a read that returned nothing constrains nothing).
/// </summary>
public static class FsAnswers
{
    public static CallResult FromStatus(FsInput input, StatusCode status, string detail)
    {
        var answer = (input.Kind, status) switch
        {
            (FsOpKind.CreateFile or FsOpKind.Mkdir, StatusCode.AlreadyExists) => FsStatus.AlreadyExists,
            (FsOpKind.CreateFile or FsOpKind.Mkdir, StatusCode.NotFound) => FsStatus.ParentMissing,
            (FsOpKind.CreateFile or FsOpKind.Mkdir, StatusCode.FailedPrecondition) when NotADirectory(detail) => FsStatus.NotADirectory,
            (FsOpKind.Rename, StatusCode.AlreadyExists) => FsStatus.DestinationExists,
            (FsOpKind.Delete, StatusCode.FailedPrecondition) when detail.Contains("not empty", StringComparison.Ordinal) => FsStatus.NotEmpty,
            (_, StatusCode.NotFound) => FsStatus.NotFound,
            (not (FsOpKind.CreateFile or FsOpKind.Mkdir), StatusCode.FailedPrecondition) when NotADirectory(detail) => FsStatus.NotFound,
            (_, StatusCode.InvalidArgument) => FsStatus.InvalidArgument,
            _ => (FsStatus?)null,
        };
        if (answer is { } known)
        {
            return CallResult.Answered(FsOutput.Of(known));
        }

        var text = $"{status}: {detail}";
        return input.IsMutation ? new CallResult(OpOutcome.Unknown, null, text) : new CallResult(OpOutcome.Failed, null, text);
    }

    /// <summary>A transport-level failure (no status at all): like UNAVAILABLE.</summary>
    public static CallResult FromException(FsInput input, Exception error)
    {
        var text = $"{error.GetType().Name}: {error.Message}";
        return input.IsMutation ? new CallResult(OpOutcome.Unknown, null, text) : new CallResult(OpOutcome.Failed, null, text);
    }

    public static FsOutput FromInfo(HaMaster.Protos.V1.FileInfo info) =>
        FsOutput.Found(info.Kind == InodeKind.Directory ? FsKind.Directory : FsKind.File, (int)info.Mode);

    /// <summary>A listing; listing a file answers the file itself, which the model calls "not a directory".</summary>
    public static FsOutput FromListing(string path, ListStatusResponse response)
    {
        if (response.Entries.Count == 1 && response.Entries[0].Path == path && response.Entries[0].Kind != InodeKind.Directory)
        {
            return FsOutput.Of(FsStatus.NotADirectory);
        }

        return FsOutput.Listing(response.Entries.Select(e => e.Name));
    }

    /// <summary>True when the connection was refused: the request certainly never reached a master.</summary>
    public static bool NeverSent(Exception error)
    {
        // Grpc.Net.Client keeps the transport failure in the status's DebugException.
        for (var e = error; e is not null; e = e is RpcException rpc ? rpc.Status.DebugException : e.InnerException)
        {
            if (e is System.Net.Sockets.SocketException { SocketErrorCode: System.Net.Sockets.SocketError.ConnectionRefused })
            {
                return true;
            }
        }

        return false;
    }

    private static bool NotADirectory(string detail) => detail.Contains("is not a directory", StringComparison.Ordinal);
}
