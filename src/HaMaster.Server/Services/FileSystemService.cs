using HaMaster.Grpc;
using HaMaster.Metadata;
using HaMaster.Protos.V1;

namespace HaMaster.Server.Services;

/// <summary>
/// <c>hamaster.v1.FileSystemMaster</c>: writes are validated, then replicated through Raft on
/// the leader (followers forward them); reads are served by any master, linearizable through
/// ReadIndex unless the request asks for a stale read.
/// </summary>
internal sealed class FileSystemService
{
    public const string ServiceName = "hamaster.v1.FileSystemMaster";
    private readonly MetadataStateMachine _machine;
    private readonly JournalProposer _proposer;
    private readonly TimeSpan _defaultTimeout;
    private readonly ReadPermissions? _readPermissions;

    public FileSystemService(MetadataStateMachine machine, JournalProposer proposer, TimeSpan defaultTimeout, ReadPermissions? readPermissions = null)
    {
        _machine = machine;
        _proposer = proposer;
        _defaultTimeout = defaultTimeout;
        _readPermissions = readPermissions;
    }

    public void Register(GrpcServiceRegistry registry, ForwardedCalls leaderCalls)
    {
        leaderCalls.Register(registry, ServiceName, "CreateDirectory", CreateDirectoryRequest.Parser, CreateDirectoryResponse.Parser, async (r, caller, ct) =>
        {
            JournalProposer.CheckPath(r.Path);
            var result = await _proposer.ProposeAsync(caller, r.Session, e => e.CreateDirectory = r, ct).ConfigureAwait(false);
            return new CreateDirectoryResponse { Info = result.FileInfo };
        });
        leaderCalls.Register(registry, ServiceName, "CreateFile", CreateFileRequest.Parser, CreateFileResponse.Parser, async (r, caller, ct) =>
        {
            JournalProposer.CheckPath(r.Path);
            if (r.TtlMs < 0) throw new GrpcException(StatusCode.InvalidArgument, "ttl_ms must be >= 0");
            var result = await _proposer.ProposeAsync(caller, r.Session, e => e.CreateFile = r, ct).ConfigureAwait(false);
            return new CreateFileResponse { Info = result.FileInfo };
        });
        leaderCalls.Register(registry, ServiceName, "CompleteFile", CompleteFileRequest.Parser, CompleteFileResponse.Parser, async (r, caller, ct) =>
        {
            JournalProposer.CheckPath(r.Path);
            var result = await _proposer.ProposeAsync(caller, r.Session, e => e.CompleteFile = r, ct).ConfigureAwait(false);
            return new CompleteFileResponse { Info = result.FileInfo };
        });
        leaderCalls.Register(registry, ServiceName, "Delete", DeleteRequest.Parser, DeleteResponse.Parser, async (r, caller, ct) =>
        {
            JournalProposer.CheckPath(r.Path);
            if (r.Path == "/") throw new GrpcException(StatusCode.InvalidArgument, "the root directory cannot be deleted");
            var result = await _proposer.ProposeAsync(caller, r.Session, e => e.Delete = r, ct).ConfigureAwait(false);
            return new DeleteResponse { DeletedCount = result.DeletedCount };
        });
        leaderCalls.Register(registry, ServiceName, "Rename", RenameRequest.Parser, RenameResponse.Parser, async (r, caller, ct) =>
        {
            JournalProposer.CheckPath(r.SrcPath, "src_path");
            JournalProposer.CheckPath(r.DstPath, "dst_path");
            var result = await _proposer.ProposeAsync(caller, r.Session, e => e.Rename = r, ct).ConfigureAwait(false);
            return new RenameResponse { Info = result.FileInfo };
        });
        leaderCalls.Register(registry, ServiceName, "SetAttribute", SetAttributeRequest.Parser, SetAttributeResponse.Parser, async (r, caller, ct) =>
        {
            JournalProposer.CheckPath(r.Path);
            if (r.HasMode && r.Mode > 0xFFF) throw new GrpcException(StatusCode.InvalidArgument, $"mode {Convert.ToString(r.Mode, 8)} is not a permission value (at most 07777)");
            if (r.HasTtlMs && r.TtlMs < 0) throw new GrpcException(StatusCode.InvalidArgument, "ttl_ms must be >= 0");
            var result = await _proposer.ProposeAsync(caller, r.Session, e => e.SetAttribute = r, ct).ConfigureAwait(false);
            return new SetAttributeResponse { Info = result.FileInfo };
        });
        leaderCalls.Register(registry, ServiceName, "GetNewBlockIdForFile", GetNewBlockIdForFileRequest.Parser, GetNewBlockIdForFileResponse.Parser, async (r, caller, ct) =>
        {
            JournalProposer.CheckPath(r.Path);
            var result = await _proposer.ProposeAsync(caller, r.Session, e => e.AllocateBlock = r, ct).ConfigureAwait(false);
            return new GetNewBlockIdForFileResponse { BlockId = result.BlockId };
        });

        registry.AddUnary<GetStatusRequest, GetStatusResponse>(ServiceName, "GetStatus", GetStatusRequest.Parser, (r, ctx) =>
            ReadAsync(r.Path, r.Consistency, ctx, ReadPermissions.Target.None, () => new GetStatusResponse { Info = JournalProposer.Unwrap(_machine.GetStatus(r.Path)) }));
        registry.AddUnary<ListStatusRequest, ListStatusResponse>(ServiceName, "ListStatus", ListStatusRequest.Parser, (r, ctx) =>
            ReadAsync(r.Path, r.Consistency, ctx, ReadPermissions.Target.Read, () => JournalProposer.Unwrap(_machine.ListStatus(r.Path, r.Limit, r.PageToken))));
        registry.AddUnary<GetFileBlockInfoRequest, GetFileBlockInfoResponse>(ServiceName, "GetFileBlockInfo", GetFileBlockInfoRequest.Parser, (r, ctx) =>
            ReadAsync(r.Path, r.Consistency, ctx, ReadPermissions.Target.Read, () => JournalProposer.Unwrap(_machine.GetFileBlockInfo(r.Path))));
    }

    private async ValueTask<T> ReadAsync<T>(string path, Consistency consistency, ServerCallContext context, ReadPermissions.Target target, Func<T> read)
    {
        JournalProposer.CheckPath(path);
        using var timeout = CallDeadline.Link(context, _defaultTimeout);
        await _proposer.ReadBarrierAsync(consistency, timeout.Token).ConfigureAwait(false);
        _readPermissions?.Check(CallerIdentity.From(context), path, target);
        return read();
    }
}
