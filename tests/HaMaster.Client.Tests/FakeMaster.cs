using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using Grpc.Core;
using HaMaster.Protos.V1;
using HaMaster.Testing;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;

namespace HaMaster.Client.Tests;

/// <summary>How a fake master behaves.</summary>
internal enum FakeRole
{
    /// <summary>Serves every call from the shared namespace.</summary>
    Leader,

    /// <summary>Answers GetClusterInfo; everything else UNAVAILABLE with a hamaster-leader trailer.</summary>
    Redirector,
}

/// <summary>
/// One in-process fake master on 127.0.0.1:0, speaking the real gRPC wire protocol: its three
/// public services are generated Grpc.AspNetCore bases on Kestrel. Every answer (success or error) carries <c>hamaster-leader</c>. It records what
/// arrives (sessions, headers, per-method counts) so tests can assert the client's behaviour.
/// </summary>
internal sealed class FakeMaster : IAsyncDisposable
{
    private readonly FakeCluster _cluster;
    private readonly ConcurrentDictionary<string, int> _calls = new();
    private InProcessGrpcServer? _host;

    private FakeMaster(FakeCluster cluster, ulong id, FakeRole role)
    {
        _cluster = cluster;
        Id = id;
        Role = role;
    }

    public ulong Id { get; }

    public FakeRole Role { get; }

    public string Address { get; private set; } = "";

    /// <summary>Sessions of every write request received, in arrival order.</summary>
    public ConcurrentQueue<(string Method, string ClientId, ulong Sequence, ulong AcknowledgedThrough)> Sessions { get; } = new();

    /// <summary>(user, groups) headers of every request received.</summary>
    public ConcurrentQueue<(string? User, string? Groups)> Identities { get; } = new();

    /// <summary>Writes to apply and then answer UNAVAILABLE for (a lost reply).</summary>
    public int FailWritesAfterApply;

    /// <summary>Calls to answer UNAVAILABLE "no leader" before serving (an election under way).</summary>
    public int UnavailableBeforeServing;

    /// <summary>Whether GetClusterInfo reports a leader (false = an election is under way).</summary>
    public bool ReportLeader { get; set; } = true;

    /// <summary>(method, hamaster-cluster-secret) of every request received.</summary>
    public ConcurrentQueue<(string Method, string? Secret)> Secrets { get; } = new();

    public int Calls(string method) => _calls.TryGetValue(method, out var n) ? n : 0;

    public static async Task<FakeMaster> StartAsync(FakeCluster cluster, ulong id, FakeRole role)
    {
        var master = new FakeMaster(cluster, id, role);
        var fs = new FakeFileSystem(master);
        var blocks = new FakeBlocks(master);
        var admin = new FakeAdmin(master);
        master._host = await InProcessGrpcServer.StartAsync(
            services => services.AddSingleton(fs).AddSingleton(blocks).AddSingleton(admin),
            app =>
            {
                app.MapGrpcService<FakeFileSystem>();
                app.MapGrpcService<FakeBlocks>();
                app.MapGrpcService<FakeAdmin>();
            });
        master.Address = $"127.0.0.1:{master._host.Port}";
        return master;
    }

    /// <summary>An address where nothing listens (a "down" master).</summary>
    public static string ClosedAddress()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var port = ((IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop();
        return $"127.0.0.1:{port}";
    }

    public async ValueTask DisposeAsync()
    {
        if (_host is not null)
        {
            await _host.DisposeAsync();
        }
    }

    private FakeNamespace Ns => _cluster.Namespace;

    private sealed class FakeFileSystem(FakeMaster m) : FileSystemMaster.FileSystemMasterBase
    {
        public override Task<CreateDirectoryResponse> CreateDirectory(CreateDirectoryRequest r, ServerCallContext ctx) =>
            m.Write("CreateDirectory", r, r.Session, ctx, () => new CreateDirectoryResponse { Info = m.Ns.Create(r.Path, InodeKind.Directory, r.Recursive, r.Mode, User(ctx)) });

        public override Task<CreateFileResponse> CreateFile(CreateFileRequest r, ServerCallContext ctx) =>
            m.Write("CreateFile", r, r.Session, ctx, () => new CreateFileResponse { Info = m.Ns.Create(r.Path, InodeKind.File, r.Recursive, r.Mode, User(ctx)) });

        public override Task<CreateFilesResponse> CreateFiles(CreateFilesRequest r, ServerCallContext ctx) =>
            m.Write("CreateFiles", r, r.Session, ctx, () =>
            {
                var response = new CreateFilesResponse();
                for (var i = 0; i < r.Names.Count; i++)
                {
                    try
                    {
                        m.Ns.Create(r.Directory.TrimEnd('/') + "/" + r.Names[i], InodeKind.File, r.Recursive, r.Mode, User(ctx));
                        response.Created++;
                    }
                    catch (RpcException e)
                    {
                        response.Failures.Add(new CreateFilesFailure { Index = (uint)i, Code = (int)e.StatusCode, Message = e.Status.Detail });
                    }
                }

                return response;
            });

        public override Task<CompleteFileResponse> CompleteFile(CompleteFileRequest r, ServerCallContext ctx) =>
            m.Write("CompleteFile", r, r.Session, ctx, () => new CompleteFileResponse { Info = m.Ns.Update(r.Path, i => { i.Completed = true; i.Length = r.Length; }) });

        public override Task<DeleteResponse> Delete(DeleteRequest r, ServerCallContext ctx) =>
            m.Write("Delete", r, r.Session, ctx, () => new DeleteResponse { DeletedCount = m.Ns.Delete(r.Path, r.Recursive) });

        public override Task<RenameResponse> Rename(RenameRequest r, ServerCallContext ctx) =>
            m.Write("Rename", r, r.Session, ctx, () => new RenameResponse { Info = m.Ns.Rename(r.SrcPath, r.DstPath) });

        public override Task<SetAttributeResponse> SetAttribute(SetAttributeRequest r, ServerCallContext ctx) =>
            m.Write("SetAttribute", r, r.Session, ctx, () => new SetAttributeResponse { Info = m.Ns.Update(r.Path, i => { if (r.HasMode) { i.Mode = r.Mode; } if (r.HasTtlMs) { i.TtlMs = r.TtlMs; } if (r.HasTtlAction) { i.TtlAction = r.TtlAction; } }) });

        public override Task<GetNewBlockIdForFileResponse> GetNewBlockIdForFile(GetNewBlockIdForFileRequest r, ServerCallContext ctx) =>
            m.Write("GetNewBlockIdForFile", r, r.Session, ctx, () => new GetNewBlockIdForFileResponse { BlockId = m.Ns.Get(r.Path).Id << 20 });

        public override Task<GetStatusResponse> GetStatus(GetStatusRequest r, ServerCallContext ctx) =>
            m.Read("GetStatus", ctx, async () =>
            {
                if (r.Path == "/hang")
                {
                    // Never answers: the client's deadline must end the call.
                    await Task.Delay(Timeout.Infinite, ctx.CancellationToken);
                }

                return new GetStatusResponse { Info = m.Ns.Get(r.Path) };
            });

        public override Task<ListStatusResponse> ListStatus(ListStatusRequest r, ServerCallContext ctx) =>
            m.Read("ListStatus", ctx, () => Task.FromResult(m.Ns.List(r.Path, r.Limit, r.PageToken)));

        public override Task<GetFileBlockInfoResponse> GetFileBlockInfo(GetFileBlockInfoRequest r, ServerCallContext ctx) =>
            m.Read("GetFileBlockInfo", ctx, () => Task.FromResult(new GetFileBlockInfoResponse { Info = m.Ns.Get(r.Path) }));
    }

    private sealed class FakeBlocks(FakeMaster m) : BlockMaster.BlockMasterBase
    {
        public override Task<RegisterWorkerResponse> RegisterWorker(RegisterWorkerRequest r, ServerCallContext ctx) =>
            m.Write("RegisterWorker", r, r.Session, ctx, () => new RegisterWorkerResponse { WorkerId = (ulong)r.Address.Length });

        public override Task<CommitBlockResponse> CommitBlock(CommitBlockRequest r, ServerCallContext ctx) =>
            m.Write("CommitBlock", r, r.Session, ctx, () => new CommitBlockResponse());

        public override Task<WorkerHeartbeatResponse> WorkerHeartbeat(WorkerHeartbeatRequest r, ServerCallContext ctx) =>
            m.Read("WorkerHeartbeat", ctx, () => Task.FromResult(new WorkerHeartbeatResponse { Command = r.WorkerId == 0 ? WorkerCommand.Register : WorkerCommand.None }));

        public override Task<GetBlockInfoResponse> GetBlockInfo(GetBlockInfoRequest r, ServerCallContext ctx) =>
            m.Read("GetBlockInfo", ctx, () => Task.FromResult(new GetBlockInfoResponse { Info = new BlockInfo { BlockId = r.BlockId, Length = 42 } }));

        public override Task<GetWorkerInfoListResponse> GetWorkerInfoList(GetWorkerInfoListRequest r, ServerCallContext ctx) =>
            m.Read("GetWorkerInfoList", ctx, () => Task.FromResult(new GetWorkerInfoListResponse { Workers = { new WorkerInfo { Id = 7, Address = "w:1" } } }));
    }

    private sealed class FakeAdmin(FakeMaster m) : ClusterAdmin.ClusterAdminBase
    {
        // Membership answers are served by any fake (followers answer GetClusterInfo too).
        public override Task<GetClusterInfoResponse> GetClusterInfo(GetClusterInfoRequest r, ServerCallContext ctx)
        {
            // A member that knows no leader names none in its trailer either.
            m.Count("GetClusterInfo", ctx, advertiseLeader: m.ReportLeader);
            return Task.FromResult(m._cluster.Info(m.Id, m.ReportLeader));
        }

        public override Task<AddMasterResponse> AddMaster(AddMasterRequest r, ServerCallContext ctx) =>
            m.Read("AddMaster", ctx, () => Task.FromResult(new AddMasterResponse { Cluster = m._cluster.Info(m.Id, true) }));

        public override Task<RemoveMasterResponse> RemoveMaster(RemoveMasterRequest r, ServerCallContext ctx) =>
            m.Read("RemoveMaster", ctx, () => r.Id == m.Id
                ? throw new RpcException(new Status(StatusCode.FailedPrecondition, "cannot remove the leader without transferring leadership"))
                : Task.FromResult(new RemoveMasterResponse { Cluster = m._cluster.Info(m.Id, true) }));

        public override Task<TransferLeadershipResponse> TransferLeadership(TransferLeadershipRequest r, ServerCallContext ctx) =>
            m.Read("TransferLeadership", ctx, () => Task.FromResult(new TransferLeadershipResponse { LeaderId = r.TargetId == 0 ? m.Id : r.TargetId }));

        public override Task<TakeSnapshotResponse> TakeSnapshot(TakeSnapshotRequest r, ServerCallContext ctx) =>
            m.Read("TakeSnapshot", ctx, () => Task.FromResult(new TakeSnapshotResponse { SnapshotIndex = 99, SnapshotTerm = 3, SizeBytes = 4096 }));
    }

    private static string User(ServerCallContext ctx) => ctx.RequestHeaders.GetValue("hamaster-user") ?? "nobody";

    private void Count(string method, ServerCallContext ctx, bool advertiseLeader = true)
    {
        _calls.AddOrUpdate(method, 1, (_, n) => n + 1);
        Identities.Enqueue((ctx.RequestHeaders.GetValue("hamaster-user"), ctx.RequestHeaders.GetValue("hamaster-groups")));
        Secrets.Enqueue((method, ctx.RequestHeaders.GetValue("hamaster-cluster-secret")));
        if (advertiseLeader && _cluster.LeaderAddress is { Length: > 0 } leader)
        {
            ctx.ResponseTrailers.Add("hamaster-leader", leader);
        }
    }

    private void RedirectIfFollower()
    {
        if (Interlocked.Decrement(ref UnavailableBeforeServing) >= 0)
        {
            throw new RpcException(new Status(StatusCode.Unavailable, "no leader: election in progress"));
        }

        if (Role == FakeRole.Redirector)
        {
            throw new RpcException(new Status(StatusCode.Unavailable, "not the leader"));
        }
    }

    private Task<TResp> Read<TResp>(string method, ServerCallContext ctx, Func<Task<TResp>> handler)
    {
        Count(method, ctx);
        RedirectIfFollower();
        return handler();
    }

    /// <summary>A write with exactly-once dedupe on (client_id, sequence), as the real state machine does.</summary>
    private Task<TResp> Write<TReq, TResp>(string method, TReq request, ClientSession? session, ServerCallContext ctx, Func<TResp> apply)
        where TResp : class
    {
        Count(method, ctx);
        var s = session ?? throw new RpcException(new Status(StatusCode.InvalidArgument, "write without a session"));
        Sessions.Enqueue((method, s.ClientId, s.Sequence, s.AcknowledgedThrough));
        RedirectIfFollower();
        var key = (s.ClientId, s.Sequence);
        object? result = _cluster.Results.TryGetValue(key, out var stored) ? stored : null;
        if (result is null)
        {
            try
            {
                result = apply();
            }
            catch (RpcException ex)
            {
                result = ex;
            }

            _cluster.Results[key] = result;
        }

        if (Interlocked.Decrement(ref FailWritesAfterApply) >= 0)
        {
            throw new RpcException(new Status(StatusCode.Unavailable, "reply lost (injected)"));
        }

        return result is RpcException error ? throw new RpcException(error.Status) : Task.FromResult((TResp)result);
    }
}
