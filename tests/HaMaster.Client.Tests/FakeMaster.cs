using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using Google.Protobuf;
using HaMaster.Grpc;
using HaMaster.Protos.V1;

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
/// One in-process fake master on 127.0.0.1:0, speaking the real gRPC wire protocol through
/// HaMaster.Grpc. Every answer (success or error) carries <c>hamaster-leader</c>. It records what
/// arrives (sessions, headers, per-method counts) so tests can assert the client's behaviour.
/// </summary>
internal sealed class FakeMaster : IAsyncDisposable
{
    private readonly FakeCluster _cluster;
    private readonly ConcurrentDictionary<string, int> _calls = new();
    private GrpcServerHost? _host;

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
        master._host = await GrpcServerHost.StartAsync(master.BuildRegistry());
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

    private GrpcServiceRegistry BuildRegistry()
    {
        var registry = new GrpcServiceRegistry();
        const string Fs = "hamaster.v1.FileSystemMaster";
        const string Block = "hamaster.v1.BlockMaster";
        const string Admin = "hamaster.v1.ClusterAdmin";
        var ns = _cluster.Namespace;

        Write(registry, Fs, "CreateDirectory", CreateDirectoryRequest.Parser, r => r.Session, (r, ctx) => new CreateDirectoryResponse { Info = ns.Create(r.Path, InodeKind.Directory, r.Recursive, r.Mode, User(ctx)) });
        Write(registry, Fs, "CreateFile", CreateFileRequest.Parser, r => r.Session, (r, ctx) => new CreateFileResponse { Info = ns.Create(r.Path, InodeKind.File, r.Recursive, r.Mode, User(ctx)) });
        Write(registry, Fs, "CompleteFile", CompleteFileRequest.Parser, r => r.Session, (r, _) => new CompleteFileResponse { Info = ns.Update(r.Path, i => { i.Completed = true; i.Length = r.Length; }) });
        Write(registry, Fs, "Delete", DeleteRequest.Parser, r => r.Session, (r, _) => new DeleteResponse { DeletedCount = ns.Delete(r.Path, r.Recursive) });
        Write(registry, Fs, "Rename", RenameRequest.Parser, r => r.Session, (r, _) => new RenameResponse { Info = ns.Rename(r.SrcPath, r.DstPath) });
        Write(registry, Fs, "SetAttribute", SetAttributeRequest.Parser, r => r.Session, (r, _) => new SetAttributeResponse { Info = ns.Update(r.Path, i => { if (r.HasMode) { i.Mode = r.Mode; } }) });
        Write(registry, Fs, "GetNewBlockIdForFile", GetNewBlockIdForFileRequest.Parser, r => r.Session, (r, _) => new GetNewBlockIdForFileResponse { BlockId = ns.Get(r.Path).Id << 20 });
        Read(registry, Fs, "GetStatus", GetStatusRequest.Parser, async (r, ctx) =>
        {
            if (r.Path == "/hang")
            {
                // Never answers: the client's deadline must end the call.
                await Task.Delay(Timeout.Infinite, ctx.CancellationToken);
            }

            return new GetStatusResponse { Info = ns.Get(r.Path) };
        });
        Read(registry, Fs, "ListStatus", ListStatusRequest.Parser, (r, _) => ValueTask.FromResult(ns.List(r.Path, r.Limit, r.PageToken)));
        Read(registry, Fs, "GetFileBlockInfo", GetFileBlockInfoRequest.Parser, (r, _) => ValueTask.FromResult(new GetFileBlockInfoResponse { Info = ns.Get(r.Path) }));

        Write(registry, Block, "RegisterWorker", RegisterWorkerRequest.Parser, r => r.Session, (r, _) => new RegisterWorkerResponse { WorkerId = (ulong)r.Address.Length });
        Write(registry, Block, "CommitBlock", CommitBlockRequest.Parser, r => r.Session, (_, _) => new CommitBlockResponse());
        Read(registry, Block, "WorkerHeartbeat", WorkerHeartbeatRequest.Parser, (r, _) => ValueTask.FromResult(new WorkerHeartbeatResponse { Command = r.WorkerId == 0 ? WorkerCommand.Register : WorkerCommand.None }));
        Read(registry, Block, "GetBlockInfo", GetBlockInfoRequest.Parser, (r, _) => ValueTask.FromResult(new GetBlockInfoResponse { Info = new BlockInfo { BlockId = r.BlockId, Length = 42 } }));
        Read(registry, Block, "GetWorkerInfoList", GetWorkerInfoListRequest.Parser, (_, _) => ValueTask.FromResult(new GetWorkerInfoListResponse { Workers = { new WorkerInfo { Id = 7, Address = "w:1" } } }));

        // Membership answers are served by any fake (followers answer GetClusterInfo too).
        registry.AddUnary(Admin, "GetClusterInfo", GetClusterInfoRequest.Parser, (GetClusterInfoRequest _, ServerCallContext ctx) =>
        {
            // A member that knows no leader names none in its trailer either.
            Count("GetClusterInfo", ctx, advertiseLeader: ReportLeader);
            return ValueTask.FromResult(_cluster.Info(Id, ReportLeader));
        });
        Read(registry, Admin, "AddMaster", AddMasterRequest.Parser, (r, _) => ValueTask.FromResult(new AddMasterResponse { Cluster = _cluster.Info(Id, true) }));
        Read(registry, Admin, "RemoveMaster", RemoveMasterRequest.Parser, (r, _) => r.Id == Id
            ? throw new GrpcException(StatusCode.FailedPrecondition, "cannot remove the leader without transferring leadership")
            : ValueTask.FromResult(new RemoveMasterResponse { Cluster = _cluster.Info(Id, true) }));
        Read(registry, Admin, "TransferLeadership", TransferLeadershipRequest.Parser, (r, _) => ValueTask.FromResult(new TransferLeadershipResponse { LeaderId = r.TargetId == 0 ? Id : r.TargetId }));
        Read(registry, Admin, "TakeSnapshot", TakeSnapshotRequest.Parser, (_, _) => ValueTask.FromResult(new TakeSnapshotResponse { SnapshotIndex = 99, SnapshotTerm = 3, SizeBytes = 4096 }));
        return registry;
    }

    private static string User(ServerCallContext ctx) => ctx.RequestHeaders.Get("hamaster-user") ?? "nobody";

    private void Count(string method, ServerCallContext ctx, bool advertiseLeader = true)
    {
        _calls.AddOrUpdate(method, 1, (_, n) => n + 1);
        Identities.Enqueue((ctx.RequestHeaders.Get("hamaster-user"), ctx.RequestHeaders.Get("hamaster-groups")));
        Secrets.Enqueue((method, ctx.RequestHeaders.Get("hamaster-cluster-secret")));
        if (advertiseLeader && _cluster.LeaderAddress is { Length: > 0 } leader)
        {
            ctx.ResponseTrailers.Add("hamaster-leader", leader);
        }
    }

    private void RedirectIfFollower()
    {
        if (Interlocked.Decrement(ref UnavailableBeforeServing) >= 0)
        {
            throw new GrpcException(StatusCode.Unavailable, "no leader: election in progress");
        }

        if (Role == FakeRole.Redirector)
        {
            throw new GrpcException(StatusCode.Unavailable, "not the leader");
        }
    }

    private void Read<TReq, TResp>(GrpcServiceRegistry registry, string service, string method, MessageParser<TReq> parser, Func<TReq, ServerCallContext, ValueTask<TResp>> handler)
        where TReq : IMessage<TReq>
        where TResp : IMessage<TResp> =>
        registry.AddUnary(service, method, parser, (TReq request, ServerCallContext ctx) =>
        {
            Count(method, ctx);
            RedirectIfFollower();
            return handler(request, ctx);
        });

    /// <summary>A write with exactly-once dedupe on (client_id, sequence), as the real state machine does.</summary>
    private void Write<TReq, TResp>(GrpcServiceRegistry registry, string service, string method, MessageParser<TReq> parser, Func<TReq, ClientSession?> session, Func<TReq, ServerCallContext, TResp> apply)
        where TReq : IMessage<TReq>
        where TResp : IMessage<TResp> =>
        registry.AddUnary(service, method, parser, (TReq request, ServerCallContext ctx) =>
        {
            Count(method, ctx);
            var s = session(request) ?? throw new GrpcException(StatusCode.InvalidArgument, "write without a session");
            Sessions.Enqueue((method, s.ClientId, s.Sequence, s.AcknowledgedThrough));
            RedirectIfFollower();
            var key = (s.ClientId, s.Sequence);
            var result = _cluster.Results.TryGetValue(key, out var stored) ? stored : null;
            if (result is null)
            {
                try
                {
                    result = apply(request, ctx);
                }
                catch (GrpcException ex)
                {
                    result = ex;
                }

                _cluster.Results[key] = result;
            }

            if (Interlocked.Decrement(ref FailWritesAfterApply) >= 0)
            {
                throw new GrpcException(StatusCode.Unavailable, "reply lost (injected)");
            }

            return result is GrpcException error ? throw new GrpcException(error.Status, error.Detail) : ValueTask.FromResult((TResp)result);
        });
}
