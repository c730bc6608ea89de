using Grpc.Core;
using HaMaster.Metadata;
using HaMaster.Protos.V1;
using HaMaster.Server.Raft;
using HaMaster.Server.Workers;

namespace HaMaster.Server.Services;

/// <summary>
/// <c>hamaster.v1.BlockMaster</c>, the workers' API. Registration and block commits are
/// journaled; heartbeats only refresh the leader's in-memory liveness table (followers forward
/// them to the leader) and journal the blocks a worker reports as removed.
/// </summary>
internal sealed class BlockMasterService : BlockMaster.BlockMasterBase
{
    public const string ServiceName = "hamaster.v1.BlockMaster";
    private readonly MetadataStateMachine _machine;
    private readonly JournalProposer _proposer;
    private readonly WorkerLivenessTracker _liveness;
    private readonly RaftHost _host;
    private readonly TimeSpan _defaultTimeout;
    private readonly ForwardedCalls.LeaderCall<RegisterWorkerRequest, RegisterWorkerResponse> _register;
    private readonly ForwardedCalls.LeaderCall<WorkerHeartbeatRequest, WorkerHeartbeatResponse> _heartbeat;
    private readonly ForwardedCalls.LeaderCall<CommitBlockRequest, CommitBlockResponse> _commit;

    public BlockMasterService(MetadataStateMachine machine, JournalProposer proposer, WorkerLivenessTracker liveness, RaftHost host, TimeSpan defaultTimeout, ForwardedCalls leaderCalls)
    {
        _machine = machine;
        _proposer = proposer;
        _liveness = liveness;
        _host = host;
        _defaultTimeout = defaultTimeout;

        _register = leaderCalls.Register(ServiceName, "RegisterWorker", RegisterWorkerRequest.Parser, RegisterWorkerResponse.Parser, async (r, caller, ct) =>
        {
            RequestChecks.Check(r);
            var result = await _proposer.ProposeAsync(caller, r.Session, e => e.RegisterWorker = r, ct).ConfigureAwait(false);
            _liveness.Heartbeat(result.WorkerId, r.Tiers);
            return new RegisterWorkerResponse { WorkerId = result.WorkerId };
        });
        _heartbeat = leaderCalls.Register(ServiceName, "WorkerHeartbeat", WorkerHeartbeatRequest.Parser, WorkerHeartbeatResponse.Parser, async (r, caller, ct) =>
        {
            RequestChecks.Check(r);
            var worker = _machine.GetWorker(r.WorkerId);
            if (worker is null || worker.State != WorkerState.Live)
            {
                return new WorkerHeartbeatResponse { Command = WorkerCommand.Register };
            }

            _liveness.Heartbeat(r.WorkerId, r.Tiers);
            if (r.RemovedBlockIds.Count > 0)
            {
                var command = new RemoveBlockLocationsCommand { WorkerId = r.WorkerId };
                command.BlockIds.AddRange(r.RemovedBlockIds);
                await _proposer.ProposeAsync(caller, null, e => e.RemoveBlockLocations = command, ct).ConfigureAwait(false);
            }

            return new WorkerHeartbeatResponse { Command = WorkerCommand.None };
        });
        _commit = leaderCalls.Register(ServiceName, "CommitBlock", CommitBlockRequest.Parser, CommitBlockResponse.Parser, async (r, caller, ct) =>
        {
            RequestChecks.Check(r);
            await _proposer.ProposeAsync(caller, r.Session, e => e.CommitBlock = r, ct).ConfigureAwait(false);
            _liveness.Heartbeat(r.WorkerId);
            return new CommitBlockResponse();
        });
    }

    public override Task<RegisterWorkerResponse> RegisterWorker(RegisterWorkerRequest request, ServerCallContext context) => _register.InvokeAsync(request, context);

    public override Task<WorkerHeartbeatResponse> WorkerHeartbeat(WorkerHeartbeatRequest request, ServerCallContext context) => _heartbeat.InvokeAsync(request, context);

    public override Task<CommitBlockResponse> CommitBlock(CommitBlockRequest request, ServerCallContext context) => _commit.InvokeAsync(request, context);

    public override async Task<GetBlockInfoResponse> GetBlockInfo(GetBlockInfoRequest request, ServerCallContext context)
    {
        using var timeout = CallDeadline.Link(context, _defaultTimeout);
        await _proposer.ReadBarrierAsync(request.Consistency, timeout.Token).ConfigureAwait(false);
        return new GetBlockInfoResponse { Info = ServerErrors.Unwrap(_machine.GetBlockInfo(request.BlockId)) };
    }

    public override async Task<GetWorkerInfoListResponse> GetWorkerInfoList(GetWorkerInfoListRequest request, ServerCallContext context)
    {
        using var timeout = CallDeadline.Link(context, _defaultTimeout);
        await _proposer.ReadBarrierAsync(request.Consistency, timeout.Token).ConfigureAwait(false);
        var response = new GetWorkerInfoListResponse();
        var leader = _host.Observed.IsLeader;
        foreach (var w in _machine.ListWorkers())
        {
            if (leader)
            {
                w.LastHeartbeatMs = _liveness.LastHeartbeatMs(w.Id);
                if (_liveness.LastTiers(w.Id) is { } tiers)
                {
                    w.Tiers.Clear();
                    w.Tiers.AddRange(tiers);
                }
            }

            response.Workers.Add(w);
        }

        return response;
    }
}
