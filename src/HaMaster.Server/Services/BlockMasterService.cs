using HaMaster.Grpc;
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
internal sealed class BlockMasterService
{
    public const string ServiceName = "hamaster.v1.BlockMaster";
    private readonly MetadataStateMachine _machine;
    private readonly JournalProposer _proposer;
    private readonly WorkerLivenessTracker _liveness;
    private readonly RaftHost _host;
    private readonly TimeSpan _defaultTimeout;

    public BlockMasterService(MetadataStateMachine machine, JournalProposer proposer, WorkerLivenessTracker liveness, RaftHost host, TimeSpan defaultTimeout)
    {
        _machine = machine;
        _proposer = proposer;
        _liveness = liveness;
        _host = host;
        _defaultTimeout = defaultTimeout;
    }

    public void Register(GrpcServiceRegistry registry, ForwardedCalls leaderCalls)
    {
        leaderCalls.Register(registry, ServiceName, "RegisterWorker", RegisterWorkerRequest.Parser, RegisterWorkerResponse.Parser, async (r, caller, ct) =>
        {
            if (!Configuration.MasterEndpoint.IsHostPort(r.Address)) throw new GrpcException(StatusCode.InvalidArgument, $"worker address '{r.Address}' is not host:port");
            var result = await _proposer.ProposeAsync(caller, r.Session, e => e.RegisterWorker = r, ct).ConfigureAwait(false);
            _liveness.Heartbeat(result.WorkerId, r.Tiers);
            return new RegisterWorkerResponse { WorkerId = result.WorkerId };
        });
        leaderCalls.Register(registry, ServiceName, "WorkerHeartbeat", WorkerHeartbeatRequest.Parser, WorkerHeartbeatResponse.Parser, async (r, caller, ct) =>
        {
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
        leaderCalls.Register(registry, ServiceName, "CommitBlock", CommitBlockRequest.Parser, CommitBlockResponse.Parser, async (r, caller, ct) =>
        {
            await _proposer.ProposeAsync(caller, r.Session, e => e.CommitBlock = r, ct).ConfigureAwait(false);
            _liveness.Heartbeat(r.WorkerId);
            return new CommitBlockResponse();
        });

        registry.AddUnary<GetBlockInfoRequest, GetBlockInfoResponse>(ServiceName, "GetBlockInfo", GetBlockInfoRequest.Parser, async (r, ctx) =>
        {
            using var timeout = CallDeadline.Link(ctx, _defaultTimeout);
            await _proposer.ReadBarrierAsync(r.Consistency, timeout.Token).ConfigureAwait(false);
            return new GetBlockInfoResponse { Info = JournalProposer.Unwrap(_machine.GetBlockInfo(r.BlockId)) };
        });
        registry.AddUnary<GetWorkerInfoListRequest, GetWorkerInfoListResponse>(ServiceName, "GetWorkerInfoList", GetWorkerInfoListRequest.Parser, async (r, ctx) =>
        {
            using var timeout = CallDeadline.Link(ctx, _defaultTimeout);
            await _proposer.ReadBarrierAsync(r.Consistency, timeout.Token).ConfigureAwait(false);
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
        });
    }
}
