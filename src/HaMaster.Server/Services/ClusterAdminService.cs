using Grpc.Core;
using HaMaster.Protos.V1;
using HaMaster.Raft;
using HaMaster.Server.Configuration;
using HaMaster.Server.Peers;
using HaMaster.Server.Raft;

namespace HaMaster.Server.Services;

/// <summary>
/// <c>hamaster.v1.ClusterAdmin</c>: cluster view, membership changes, leadership transfer and
/// snapshots. Membership and transfer run on the leader (followers forward them).
/// </summary>
internal sealed class ClusterAdminService : ClusterAdmin.ClusterAdminBase
{
    public const string ServiceName = "hamaster.v1.ClusterAdmin";
    private readonly RaftHost _host;
    private readonly PeerChannels _channels;
    private readonly ForwardedCalls.LeaderCall<AddMasterRequest, AddMasterResponse> _addMaster;
    private readonly ForwardedCalls.LeaderCall<RemoveMasterRequest, RemoveMasterResponse> _removeMaster;
    private readonly ForwardedCalls.LeaderCall<TransferLeadershipRequest, TransferLeadershipResponse> _transfer;

    public ClusterAdminService(RaftHost host, PeerChannels channels, ForwardedCalls leaderCalls)
    {
        _host = host;
        _channels = channels;

        _addMaster = leaderCalls.Register(ServiceName, "AddMaster", AddMasterRequest.Parser, AddMasterResponse.Parser, async (r, _, ct) =>
        {
            RequestChecks.Check(r);
            var clash = _host.Directory.Members.FirstOrDefault(m => m.Id != r.Id && (m.PeerAddress == r.PeerAddress || m.ClientAddress == r.ClientAddress));
            if (clash is not null) throw ServerErrors.Status(StatusCode.AlreadyExists, $"master {clash.Id} already uses {(clash.PeerAddress == r.PeerAddress ? r.PeerAddress : r.ClientAddress)}");
            var address = new MasterAddress { Id = r.Id, ClientAddress = r.ClientAddress, PeerAddress = r.PeerAddress, WebAddress = r.WebAddress };
            await _host.AddMasterAsync(address, r.LearnerOnly, ct).ConfigureAwait(false);
            return new AddMasterResponse { Cluster = await GetClusterInfoAsync(ct).ConfigureAwait(false) };
        });

        _removeMaster = leaderCalls.Register(ServiceName, "RemoveMaster", RemoveMasterRequest.Parser, RemoveMasterResponse.Parser, async (r, _, ct) =>
        {
            if (r.Id == 0) throw ServerErrors.Status(StatusCode.InvalidArgument, "id must be a non-zero master id");
            var status = await _host.GetStatusAsync().ConfigureAwait(false);
            if (!status.Config.Contains(r.Id)) throw ServerErrors.Status(StatusCode.NotFound, $"master {r.Id} is not a member of the cluster ({status.Config})");
            await _host.RemoveMasterAsync(r.Id, ct).ConfigureAwait(false);
            return new RemoveMasterResponse { Cluster = await GetClusterInfoAsync(ct).ConfigureAwait(false) };
        });

        _transfer = leaderCalls.Register(ServiceName, "TransferLeadership", TransferLeadershipRequest.Parser, TransferLeadershipResponse.Parser, async (r, _, ct) =>
            new TransferLeadershipResponse { LeaderId = await _host.TransferLeadershipAsync(r.TargetId, ct).ConfigureAwait(false) });
    }

    public override async Task<GetClusterInfoResponse> GetClusterInfo(GetClusterInfoRequest request, ServerCallContext context) =>
        await GetClusterInfoAsync(context.CancellationToken).ConfigureAwait(false);

    public override Task<AddMasterResponse> AddMaster(AddMasterRequest request, ServerCallContext context) => _addMaster.InvokeAsync(request, context);

    public override Task<RemoveMasterResponse> RemoveMaster(RemoveMasterRequest request, ServerCallContext context) => _removeMaster.InvokeAsync(request, context);

    public override Task<TransferLeadershipResponse> TransferLeadership(TransferLeadershipRequest request, ServerCallContext context) => _transfer.InvokeAsync(request, context);

    public override async Task<TakeSnapshotResponse> TakeSnapshot(TakeSnapshotRequest request, ServerCallContext context)
    {
        var meta = await _host.TakeSnapshotAsync(context.CancellationToken).ConfigureAwait(false);
        var manifest = _host.Snapshots.List().FirstOrDefault(m => m.Index == meta.Index);
        return new TakeSnapshotResponse { SnapshotIndex = meta.Index, SnapshotTerm = meta.Term, SizeBytes = (ulong)(manifest?.TotalBytes ?? 0) };
    }

    public override async Task Backup(BackupRequest request, IServerStreamWriter<BackupChunk> stream, ServerCallContext context)
    {
        var meta = await _host.TakeSnapshotAsync(context.CancellationToken).ConfigureAwait(false);

        var manifest = _host.Snapshots.List().FirstOrDefault(m => m.Index == meta.Index && m.Term == meta.Term)
            ?? throw ServerErrors.Status(StatusCode.Unavailable, "the snapshot was collected before it could be sent; retry");
        await stream.WriteAsync(new BackupChunk { Manifest = Google.Protobuf.ByteString.CopyFrom(manifest.ToBytes()) }).ConfigureAwait(false);
        using var reader = _host.Snapshots.OpenForStreaming(manifest, 1 << 20);
        while (await reader.ReadNextAsync(context.CancellationToken).ConfigureAwait(false) is { } chunk)
        {
            await stream.WriteAsync(new BackupChunk
            {
                FileName = chunk.FileName,
                Offset = (ulong)chunk.Offset,
                Data = Google.Protobuf.UnsafeByteOperations.UnsafeWrap(chunk.Data),
            }).ConfigureAwait(false);
        }
    }

    /// <summary>Every member with its role and indexes; members that don't answer within 1 s are UNREACHABLE.</summary>
    public async Task<GetClusterInfoResponse> GetClusterInfoAsync(CancellationToken cancellationToken)
    {
        var status = await _host.GetStatusAsync().ConfigureAwait(false);
        var directory = _host.Directory;
        var response = new GetClusterInfoResponse { LeaderId = status.Leader, Term = status.Term, AnsweredBy = _host.NodeId };
        response.LeaderAddress = directory.Members.FirstOrDefault(m => m.Id == status.Leader)?.ClientAddress ?? "";

        var ids = status.Config.Members.ToList();
        if (ids.Count == 0) ids.Add(_host.NodeId);
        var tasks = ids.Select(async id =>
        {
            var address = directory.Members.FirstOrDefault(m => m.Id == id);
            var info = new MasterInfo
            {
                Id = id,
                ClientAddress = address?.ClientAddress ?? "",
                PeerAddress = address?.PeerAddress ?? "",
                WebAddress = address?.WebAddress ?? "",
                Voter = status.Config.IsVoter(id),
            };
            var progress = status.Progress.FirstOrDefault(p => p.Id == id);
            if (progress.Id == id) info.MatchIndex = progress.Match;
            if (id == _host.NodeId)
            {
                var o = _host.Observed;
                Fill(info, (uint)o.Role, o.Term, o.LastLogIndex, o.CommitIndex, o.AppliedIndex, o.SnapshotIndex);
            }
            else if (address is not null)
            {
                try
                {
                    var local = await _channels.Get(address.PeerAddress)
                        .GetLocalStatusAsync(new LocalStatusRequest(), _channels.Options(TimeSpan.FromSeconds(1), cancellationToken))
                        .ConfigureAwait(false);
                    Fill(info, local.Role, local.Term, local.LastLogIndex, local.CommitIndex, local.AppliedIndex, local.SnapshotIndex);
                }
                catch (Exception e) when (e is RpcException or HttpRequestException or OperationCanceledException)
                {
                    info.Role = MasterRole.Unreachable;
                }
            }
            else
            {
                info.Role = MasterRole.Unreachable;
            }

            return info;
        });
        response.Members.AddRange(await Task.WhenAll(tasks).ConfigureAwait(false));
        return response;
    }

    private static void Fill(MasterInfo info, uint role, ulong term, ulong last, ulong commit, ulong applied, ulong snapshot)
    {
        info.Role = (RaftRole)role switch
        {
            RaftRole.Leader => MasterRole.Leader,
            RaftRole.Candidate or RaftRole.PreCandidate => MasterRole.Candidate,
            RaftRole.Learner => MasterRole.Learner,
            _ => MasterRole.Follower,
        };
        if (!info.Voter && info.Role == MasterRole.Follower) info.Role = MasterRole.Learner;
        info.Term = term;
        info.LastLogIndex = last;
        info.CommitIndex = commit;
        info.AppliedIndex = applied;
        info.SnapshotIndex = snapshot;
    }
}
