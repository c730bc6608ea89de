using HaMaster.Protos.V1;

namespace HaMaster.Client;

// BlockMaster (workers) and ClusterAdmin (operators).
public sealed partial class HaMasterClient
{
    private const string BlockService = "/hamaster.v1.BlockMaster/";
    internal const string AdminService = "/hamaster.v1.ClusterAdmin/";

    /// <summary>Registers (or re-registers, same address = same id) a worker; returns its id.</summary>
    public ValueTask<RegisterWorkerResponse> RegisterWorkerAsync(RegisterWorkerRequest request, CancellationToken cancellationToken = default) =>
        InvokeWriteAsync(BlockService + "RegisterWorker", request, static (r, s) => r.Session = s, static (m, r, o) => m.Blocks.RegisterWorkerAsync(r, o), cancellationToken);

    /// <summary>A worker's liveness report; not journaled, so it is retried like a read.</summary>
    public ValueTask<WorkerHeartbeatResponse> WorkerHeartbeatAsync(WorkerHeartbeatRequest request, CancellationToken cancellationToken = default) =>
        InvokeAsync(BlockService + "WorkerHeartbeat", request, static (m, r, o) => m.Blocks.WorkerHeartbeatAsync(r, o), CallKind.Read, cancellationToken);

    public ValueTask<CommitBlockResponse> CommitBlockAsync(CommitBlockRequest request, CancellationToken cancellationToken = default) =>
        InvokeWriteAsync(BlockService + "CommitBlock", request, static (r, s) => r.Session = s, static (m, r, o) => m.Blocks.CommitBlockAsync(r, o), cancellationToken);

    public async ValueTask<BlockInfo> GetBlockInfoAsync(ulong blockId, Consistency consistency = Consistency.Linearizable, CancellationToken cancellationToken = default) =>
        (await InvokeAsync(BlockService + "GetBlockInfo", new GetBlockInfoRequest { BlockId = blockId, Consistency = consistency }, static (m, r, o) => m.Blocks.GetBlockInfoAsync(r, o), CallKind.Read, cancellationToken).ConfigureAwait(false)).Info;

    public async ValueTask<IReadOnlyList<WorkerInfo>> GetWorkerInfoListAsync(Consistency consistency = Consistency.Linearizable, CancellationToken cancellationToken = default) =>
        (await InvokeAsync(BlockService + "GetWorkerInfoList", new GetWorkerInfoListRequest { Consistency = consistency }, static (m, r, o) => m.Blocks.GetWorkerInfoListAsync(r, o), CallKind.Read, cancellationToken).ConfigureAwait(false)).Workers;

    /// <summary>Membership and Raft progress as seen by the master that answers (the leader unless pinned).</summary>
    public async ValueTask<GetClusterInfoResponse> GetClusterInfoAsync(CancellationToken cancellationToken = default)
    {
        var cluster = await InvokeAsync(AdminService + "GetClusterInfo", new GetClusterInfoRequest(), static (m, r, o) => m.Admin.GetClusterInfoAsync(r, o), CallKind.Read, cancellationToken).ConfigureAwait(false);
        _roster.Learn(cluster.Members.Select(m => m.ClientAddress));
        return cluster;
    }

    /// <summary>Adds a master (learner first, then voter unless <see cref="AddMasterRequest.LearnerOnly"/>); returns the new membership.</summary>
    public async ValueTask<GetClusterInfoResponse> AddMasterAsync(AddMasterRequest request, CancellationToken cancellationToken = default) =>
        (await InvokeAsync(AdminService + "AddMaster", request, static (m, r, o) => m.Admin.AddMasterAsync(r, o), CallKind.Admin, cancellationToken).ConfigureAwait(false)).Cluster;

    /// <summary>Removes a master; refused (FAILED_PRECONDITION) when it would leave no reachable quorum.</summary>
    public async ValueTask<GetClusterInfoResponse> RemoveMasterAsync(ulong id, CancellationToken cancellationToken = default) =>
        (await InvokeAsync(AdminService + "RemoveMaster", new RemoveMasterRequest { Id = id }, static (m, r, o) => m.Admin.RemoveMasterAsync(r, o), CallKind.Admin, cancellationToken).ConfigureAwait(false)).Cluster;

    /// <summary>Moves leadership to <paramref name="targetId"/> (0 = the most caught-up voter); returns the new leader's id.</summary>
    public async ValueTask<ulong> TransferLeadershipAsync(ulong targetId = 0, CancellationToken cancellationToken = default)
    {
        var leader = (await InvokeAsync(AdminService + "TransferLeadership", new TransferLeadershipRequest { TargetId = targetId }, static (m, r, o) => m.Admin.TransferLeadershipAsync(r, o), CallKind.Admin, cancellationToken).ConfigureAwait(false)).LeaderId;
        // The cached leader is now stale; the next call learns the new one from a trailer or discovery.
        if (_roster.Leader is { } old)
        {
            _roster.ForgetLeader(old);
        }

        return leader;
    }

    /// <summary>Takes a snapshot (RocksDB checkpoint) now and compacts the log behind it.</summary>
    public ValueTask<TakeSnapshotResponse> TakeSnapshotAsync(CancellationToken cancellationToken = default) =>
        InvokeAsync(AdminService + "TakeSnapshot", new TakeSnapshotRequest(), static (m, r, o) => m.Admin.TakeSnapshotAsync(r, o), CallKind.Admin, cancellationToken);
}
