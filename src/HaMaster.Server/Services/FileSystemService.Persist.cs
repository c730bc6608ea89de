using Grpc.Core;
using HaMaster.Protos.V1;

namespace HaMaster.Server.Services;

/// <summary>
/// PersistFile (issue 18): the store already holds the file a worker wrote under a mount; the
/// master serving the call reads back its length and fingerprint and journals them. The store
/// steps of the other writes under a mount are <see cref="StoreWriteThrough"/>'s.
/// </summary>
internal sealed partial class FileSystemService
{
    private readonly ForwardedCalls.LeaderCall<PersistFileRequest, PersistFileResponse> _persistFile;

    private ForwardedCalls.LeaderCall<PersistFileRequest, PersistFileResponse> RegisterPersistFile(ForwardedCalls leaderCalls) =>
        leaderCalls.Register(ServiceName, "PersistFile", PersistFileRequest.Parser, PersistFileResponse.Parser, async (r, caller, ct) =>
        {
            JournalProposer.CheckPath(r.Path);
            RequestChecks.CheckSession(r.Session);
            if (_machine.Mounts.Resolve(r.Path) is not { } resolved) throw ServerErrors.Status(StatusCode.FailedPrecondition, $"{r.Path}: is not under a mount");
            if (resolved.StorePath.Length == 0) throw ServerErrors.Status(StatusCode.FailedPrecondition, $"{r.Path}: is a mount point, not a file");

            // Read back what the writer left in the store: every replica records this fingerprint.
            var status = await _stores.Get(resolved.Mount).GetStatusAsync(resolved.StorePath, ct).ConfigureAwait(false)
                ?? throw ServerErrors.Status(StatusCode.FailedPrecondition, $"{r.Path}: the store holds nothing at {resolved.StorePath} (write the file there before reporting it persisted)");
            if (status.IsDirectory) throw ServerErrors.Status(StatusCode.FailedPrecondition, $"{r.Path}: the store holds a directory at {resolved.StorePath}, not a file");
            var command = new PersistFileCommand { Path = r.Path, MountId = resolved.Mount.MountId, Length = (ulong)Math.Max(0, status.Length), Fingerprint = status.Fingerprint };
            var result = await _proposer.ProposeAsync(caller, r.Session, e => e.PersistFile = command, ct).ConfigureAwait(false);
            return new PersistFileResponse { Info = result.FileInfo };
        });

    public override Task<PersistFileResponse> PersistFile(PersistFileRequest request, ServerCallContext context) => _persistFile.InvokeAsync(request, context);
}
