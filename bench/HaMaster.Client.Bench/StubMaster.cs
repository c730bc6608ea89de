using System.Collections.Concurrent;
using Grpc.Core;
using HaMaster.Testing;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;
using HaMaster.Protos.V1;
using FileInfo = HaMaster.Protos.V1.FileInfo;

namespace HaMaster.Client.Bench;

/// <summary>
/// A master stub answering from a dictionary with no consensus behind it, so the figures show the
/// cost of the client and wire layers alone. Every answer carries hamaster-leader, as a real
/// master's does.
/// </summary>
internal sealed class StubMaster : IAsyncDisposable
{
    private readonly ConcurrentDictionary<string, FileInfo> _files = new(StringComparer.Ordinal);
    private InProcessGrpcServer _host = null!;
    private long _nextId = 1;

    public string Address => $"127.0.0.1:{_host.Port}";

    public static async Task<StubMaster> StartAsync()
    {
        var stub = new StubMaster();
        var fs = new StubFileSystem(stub);
        var admin = new StubAdmin(stub);
        stub._host = await InProcessGrpcServer.StartAsync(
            services => services.AddSingleton(fs).AddSingleton(admin),
            app =>
            {
                app.MapGrpcService<StubFileSystem>();
                app.MapGrpcService<StubAdmin>();
            });
        return stub;
    }

    private sealed class StubAdmin(StubMaster stub) : ClusterAdmin.ClusterAdminBase
    {
        public override Task<GetClusterInfoResponse> GetClusterInfo(GetClusterInfoRequest request, ServerCallContext ctx)
        {
            stub.Advertise(ctx);
            var info = new GetClusterInfoResponse { LeaderId = 1, LeaderAddress = stub.Address, Term = 1, AnsweredBy = 1 };
            info.Members.Add(new MasterInfo { Id = 1, ClientAddress = stub.Address, Role = MasterRole.Leader, Voter = true });
            return Task.FromResult(info);
        }
    }

    private sealed class StubFileSystem(StubMaster stub) : FileSystemMaster.FileSystemMasterBase
    {
        public override Task<CreateDirectoryResponse> CreateDirectory(CreateDirectoryRequest r, ServerCallContext ctx) =>
            Task.FromResult(new CreateDirectoryResponse { Info = stub.Create(r.Path, InodeKind.Directory, ctx, r.Recursive) });

        public override Task<CreateFileResponse> CreateFile(CreateFileRequest r, ServerCallContext ctx) =>
            Task.FromResult(new CreateFileResponse { Info = stub.Create(r.Path, InodeKind.File, ctx, false) });

        public override Task<GetStatusResponse> GetStatus(GetStatusRequest r, ServerCallContext ctx)
        {
            stub.Advertise(ctx);
            return stub._files.TryGetValue(r.Path, out var info)
                ? Task.FromResult(new GetStatusResponse { Info = info })
                : throw new RpcException(new Status(StatusCode.NotFound, r.Path + " does not exist"));
        }

        public override Task<ListStatusResponse> ListStatus(ListStatusRequest r, ServerCallContext ctx)
        {
            stub.Advertise(ctx);
            var response = new ListStatusResponse();
            response.Entries.AddRange(stub._files.Values.Where(f => f.Path.StartsWith(r.Path + "/", StringComparison.Ordinal)).OrderBy(f => f.Name, StringComparer.Ordinal).Take(r.Limit == 0 ? 1000 : (int)r.Limit));
            return Task.FromResult(response);
        }
    }

    public ValueTask DisposeAsync() => _host.DisposeAsync();

    private void Advertise(ServerCallContext ctx) => ctx.ResponseTrailers.Add("hamaster-leader", Address);

    private FileInfo Create(string path, InodeKind kind, ServerCallContext ctx, bool existingOk)
    {
        Advertise(ctx);
        var info = new FileInfo { Id = (ulong)Interlocked.Increment(ref _nextId), Path = path, Name = path[(path.LastIndexOf('/') + 1)..], Kind = kind, Mode = 420 };
        if (!_files.TryAdd(path, info) && !existingOk)
        {
            throw new RpcException(new Status(StatusCode.AlreadyExists, path + " already exists"));
        }

        return info;
    }
}
