using Grpc.Core;
using HaMaster.Metadata;
using HaMaster.Protos.V1;

namespace HaMaster.Server.Services;

/// <summary>
/// Bulk creation (issue 19): up to 1,000 files of one directory in one journal entry, so loading a
/// large namespace costs one Raft round and one RocksDB batch per thousand files instead of per file.
/// </summary>
internal sealed partial class FileSystemService
{
    private readonly ForwardedCalls.LeaderCall<CreateFilesRequest, CreateFilesResponse> _createFiles;

    public override Task<CreateFilesResponse> CreateFiles(CreateFilesRequest request, ServerCallContext context) => _createFiles.InvokeAsync(request, context);

    private ForwardedCalls.LeaderCall<CreateFilesRequest, CreateFilesResponse> RegisterCreateFiles(ForwardedCalls leaderCalls) =>
        leaderCalls.Register(ServiceName, "CreateFiles", CreateFilesRequest.Parser, CreateFilesResponse.Parser, async (r, caller, ct) =>
        {
            RequestChecks.Check(r, InputLimits.MaxNamesPerCreateFiles);
            if (_machine.Mounts.Resolve(r.Directory) is { } mounted)
            {
                throw ServerErrors.Status(StatusCode.FailedPrecondition, $"{r.Directory}: is under the mount {mounted.Mount.Path}; create files there one by one (CreateFile writes through to the store)");
            }

            var result = await _proposer.ProposeAsync(caller, r.Session, e => e.CreateFiles = r, ct).ConfigureAwait(false);
            var outcome = result.CreateFiles ?? new CreateFilesResult();
            var response = new CreateFilesResponse { Created = outcome.Created };
            foreach (var failure in outcome.Failures)
            {
                response.Failures.Add(new CreateFilesFailure { Index = failure.Index, Code = (int)ServerErrors.ToStatusCode(failure.Status), Message = failure.Message });
            }

            return response;
        });
}
