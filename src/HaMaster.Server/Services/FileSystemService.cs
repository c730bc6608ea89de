using Grpc.Core;
using HaMaster.Metadata;
using HaMaster.Protos.V1;
using HaMaster.Server.Services.MetadataSync;

namespace HaMaster.Server.Services;

/// <summary>
/// <c>hamaster.v1.FileSystemMaster</c>: writes are validated, then replicated through Raft on
/// the leader (followers forward them); reads are served by any master, linearizable through
/// ReadIndex unless the request asks for a stale read.
/// </summary>
internal sealed partial class FileSystemService : FileSystemMaster.FileSystemMasterBase
{
    public const string ServiceName = "hamaster.v1.FileSystemMaster";
    private readonly MetadataStateMachine _machine;
    private readonly JournalProposer _proposer;
    private readonly TimeSpan _defaultTimeout;
    private readonly ReadPermissions? _readPermissions;
    private readonly StoreWriteThrough _writeThrough;
    private readonly MetadataLoader _loader;
    private readonly MetadataSyncer _syncer;
    private readonly ForwardedCalls.LeaderCall<CreateDirectoryRequest, CreateDirectoryResponse> _createDirectory;
    private readonly ForwardedCalls.LeaderCall<CreateFileRequest, CreateFileResponse> _createFile;
    private readonly ForwardedCalls.LeaderCall<CompleteFileRequest, CompleteFileResponse> _completeFile;
    private readonly ForwardedCalls.LeaderCall<DeleteRequest, DeleteResponse> _delete;
    private readonly ForwardedCalls.LeaderCall<RenameRequest, RenameResponse> _rename;
    private readonly ForwardedCalls.LeaderCall<SetAttributeRequest, SetAttributeResponse> _setAttribute;
    private readonly ForwardedCalls.LeaderCall<GetNewBlockIdForFileRequest, GetNewBlockIdForFileResponse> _newBlockId;

    public FileSystemService(MetadataStateMachine machine, JournalProposer proposer, TimeSpan defaultTimeout, ForwardedCalls leaderCalls, ReadPermissions? readPermissions = null, MountedStores? stores = null, Observability.MasterMetrics? metrics = null)
    {
        _machine = machine;
        _proposer = proposer;
        _defaultTimeout = defaultTimeout;
        _readPermissions = readPermissions;
        _stores = stores ?? new MountedStores(Hosting.StoreConnectors.Create());
        _writeThrough = new StoreWriteThrough(machine, _stores);
        _loader = new MetadataLoader(machine, _stores, proposer, leaderCalls);
        _syncer = new MetadataSyncer(machine, _stores, proposer, _loader, leaderCalls, readPermissions, metrics);
        (_mount, _unmount, _updateMount) = RegisterMountCalls(leaderCalls);
        _persistFile = RegisterPersistFile(leaderCalls);
        _createFiles = RegisterCreateFiles(leaderCalls);

        _createDirectory = leaderCalls.Register(ServiceName, "CreateDirectory", CreateDirectoryRequest.Parser, CreateDirectoryResponse.Parser, async (r, caller, ct) =>
        {
            RequestChecks.Check(r);
            var entry = _proposer.NewEntry(caller, r.Session, e => e.CreateDirectory = r);
            if (!_machine.Mounts.IsEmpty) await _writeThrough.CreateDirectoryAsync(entry, ct).ConfigureAwait(false);
            var result = await _proposer.ProposeAsync(entry, ct).ConfigureAwait(false);
            return new CreateDirectoryResponse { Info = result.FileInfo };
        });
        _createFile = leaderCalls.Register(ServiceName, "CreateFile", CreateFileRequest.Parser, CreateFileResponse.Parser, async (r, caller, ct) =>
        {
            RequestChecks.Check(r);
            var entry = _proposer.NewEntry(caller, r.Session, e => e.CreateFile = r);
            if (!_machine.Mounts.IsEmpty) await _writeThrough.CreateFileAsync(entry, ct).ConfigureAwait(false);
            var result = await _proposer.ProposeAsync(entry, ct).ConfigureAwait(false);
            return new CreateFileResponse { Info = result.FileInfo };
        });
        _completeFile = leaderCalls.Register(ServiceName, "CompleteFile", CompleteFileRequest.Parser, CompleteFileResponse.Parser, async (r, caller, ct) =>
        {
            RequestChecks.Check(r);
            var result = await _proposer.ProposeAsync(caller, r.Session, e => e.CompleteFile = r, ct).ConfigureAwait(false);
            return new CompleteFileResponse { Info = result.FileInfo };
        });
        _delete = leaderCalls.Register(ServiceName, "Delete", DeleteRequest.Parser, DeleteResponse.Parser, async (r, caller, ct) =>
        {
            RequestChecks.Check(r);
            if (r.Path == "/") throw ServerErrors.Status(StatusCode.InvalidArgument, "the root directory cannot be deleted");
            var entry = _proposer.NewEntry(caller, r.Session, e => e.Delete = r);
            if (!_machine.Mounts.IsEmpty) await _writeThrough.DeleteAsync(entry, ct).ConfigureAwait(false);
            var result = await _proposer.ProposeAsync(entry, ct).ConfigureAwait(false);
            return new DeleteResponse { DeletedCount = result.DeletedCount };
        });
        _rename = leaderCalls.Register(ServiceName, "Rename", RenameRequest.Parser, RenameResponse.Parser, async (r, caller, ct) =>
        {
            RequestChecks.Check(r);
            var entry = _proposer.NewEntry(caller, r.Session, e => e.Rename = r);
            if (!_machine.Mounts.IsEmpty) await _writeThrough.RenameAsync(entry, ct).ConfigureAwait(false);
            var result = await _proposer.ProposeAsync(entry, ct).ConfigureAwait(false);
            return new RenameResponse { Info = result.FileInfo };
        });
        _setAttribute = leaderCalls.Register(ServiceName, "SetAttribute", SetAttributeRequest.Parser, SetAttributeResponse.Parser, async (r, caller, ct) =>
        {
            RequestChecks.Check(r);
            var result = await _proposer.ProposeAsync(caller, r.Session, e => e.SetAttribute = r, ct).ConfigureAwait(false);
            return new SetAttributeResponse { Info = result.FileInfo };
        });
        _newBlockId = leaderCalls.Register(ServiceName, "GetNewBlockIdForFile", GetNewBlockIdForFileRequest.Parser, GetNewBlockIdForFileResponse.Parser, async (r, caller, ct) =>
        {
            RequestChecks.Check(r);
            if (_machine.GetStatus(r.Path) is { IsOk: true, Value: { } file }) RequestChecks.CheckBlockCount(file.BlockIds.Count, r.Path);
            var result = await _proposer.ProposeAsync(caller, r.Session, e => e.AllocateBlock = r, ct).ConfigureAwait(false);
            return new GetNewBlockIdForFileResponse { BlockId = result.BlockId };
        });
    }

    public override Task<CreateDirectoryResponse> CreateDirectory(CreateDirectoryRequest request, ServerCallContext context) => _createDirectory.InvokeAsync(request, context);

    public override Task<CreateFileResponse> CreateFile(CreateFileRequest request, ServerCallContext context) => _createFile.InvokeAsync(request, context);

    public override Task<CompleteFileResponse> CompleteFile(CompleteFileRequest request, ServerCallContext context) => _completeFile.InvokeAsync(request, context);

    public override Task<DeleteResponse> Delete(DeleteRequest request, ServerCallContext context) => _delete.InvokeAsync(request, context);

    public override Task<RenameResponse> Rename(RenameRequest request, ServerCallContext context) => _rename.InvokeAsync(request, context);

    public override Task<SetAttributeResponse> SetAttribute(SetAttributeRequest request, ServerCallContext context) => _setAttribute.InvokeAsync(request, context);

    public override Task<GetNewBlockIdForFileResponse> GetNewBlockIdForFile(GetNewBlockIdForFileRequest request, ServerCallContext context) => _newBlockId.InvokeAsync(request, context);

    public override Task<SyncMetadataResponse> SyncMetadata(SyncMetadataRequest request, ServerCallContext context) => _syncer.SyncAsync(request, context);

    public override Task<GetStatusResponse> GetStatus(GetStatusRequest request, ServerCallContext context) =>
        ReadAsync(request.Path, request.Consistency, context, ReadPermissions.Target.None, () => new GetStatusResponse { Info = ServerErrors.Unwrap(_machine.GetStatus(request.Path)) },
            new MountedRead(request.LoadMetadata, Listing: false, ""), request.HasSyncIntervalMs ? request.SyncIntervalMs : -1);

    public override Task<ListStatusResponse> ListStatus(ListStatusRequest request, ServerCallContext context) =>
        ReadAsync(request.Path, request.Consistency, context, ReadPermissions.Target.Read, () => ServerErrors.Unwrap(_machine.ListStatus(request.Path, request.Limit, request.PageToken)),
            new MountedRead(request.LoadMetadata, Listing: true, request.PageToken), request.HasSyncIntervalMs ? request.SyncIntervalMs : -1);

    public override Task<GetFileBlockInfoResponse> GetFileBlockInfo(GetFileBlockInfoRequest request, ServerCallContext context) =>
        ReadAsync(request.Path, request.Consistency, context, ReadPermissions.Target.Read, () => ServerErrors.Unwrap(_machine.GetFileBlockInfo(request.Path)));

    private async Task<T> ReadAsync<T>(string path, Consistency consistency, ServerCallContext context, ReadPermissions.Target target, Func<T> read, MountedRead? mounted = null, long syncIntervalMs = -1)
    {
        JournalProposer.CheckPath(path);
        if (syncIntervalMs < -1) throw ServerErrors.Status(StatusCode.InvalidArgument, $"sync_interval_ms {syncIntervalMs} is not -1 (never), 0 (always) or a positive number of milliseconds");
        if (mounted is { Load: not (LoadMetadataType.Once or LoadMetadataType.Never or LoadMetadataType.Always) } bad)
        {
            throw ServerErrors.Status(StatusCode.InvalidArgument, $"load_metadata {(int)bad.Load} is not a known value (0 once, 1 never, 2 always)");
        }

        using var timeout = CallDeadline.Link(context, _defaultTimeout);
        await _proposer.ReadBarrierAsync(consistency, timeout.Token).ConfigureAwait(false);
        _readPermissions?.Check(CallerIdentity.From(context), path, target);

        // Outside every mount this is one scan of the (usually empty) in-memory mount table.
        if (syncIntervalMs >= 0 && mounted is { } s && !_machine.Mounts.IsEmpty && await _syncer.SyncBeforeReadAsync(path, s.Listing, s.PageToken, syncIntervalMs, context, timeout.Token).ConfigureAwait(false))
        {
            await _proposer.ReadBarrierAsync(consistency, timeout.Token).ConfigureAwait(false);
        }

        if (mounted is { } m && !_machine.Mounts.IsEmpty && await _loader.LoadAsync(path, m, context, timeout.Token).ConfigureAwait(false))
        {
            // What was loaded was applied on the leader; a follower waits until it has applied it too.
            await _proposer.ReadBarrierAsync(consistency, timeout.Token).ConfigureAwait(false);
        }

        return read();
    }
}
