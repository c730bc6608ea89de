using System.Collections.Concurrent;
using HaMaster.Grpc;
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
    private GrpcServerHost _host = null!;
    private long _nextId = 1;

    public string Address => $"127.0.0.1:{_host.Port}";

    public static async Task<StubMaster> StartAsync()
    {
        var stub = new StubMaster();
        var registry = new GrpcServiceRegistry();
        const string Fs = "hamaster.v1.FileSystemMaster";
        registry.AddUnary("hamaster.v1.ClusterAdmin", "GetClusterInfo", GetClusterInfoRequest.Parser, (GetClusterInfoRequest _, ServerCallContext ctx) =>
        {
            stub.Advertise(ctx);
            var info = new GetClusterInfoResponse { LeaderId = 1, LeaderAddress = stub.Address, Term = 1, AnsweredBy = 1 };
            info.Members.Add(new MasterInfo { Id = 1, ClientAddress = stub.Address, Role = MasterRole.Leader, Voter = true });
            return ValueTask.FromResult(info);
        });
        registry.AddUnary(Fs, "CreateDirectory", CreateDirectoryRequest.Parser, (CreateDirectoryRequest r, ServerCallContext ctx) =>
            ValueTask.FromResult(new CreateDirectoryResponse { Info = stub.Create(r.Path, InodeKind.Directory, ctx, r.Recursive) }));
        registry.AddUnary(Fs, "CreateFile", CreateFileRequest.Parser, (CreateFileRequest r, ServerCallContext ctx) =>
            ValueTask.FromResult(new CreateFileResponse { Info = stub.Create(r.Path, InodeKind.File, ctx, false) }));
        registry.AddUnary(Fs, "GetStatus", GetStatusRequest.Parser, (GetStatusRequest r, ServerCallContext ctx) =>
        {
            stub.Advertise(ctx);
            return stub._files.TryGetValue(r.Path, out var info)
                ? ValueTask.FromResult(new GetStatusResponse { Info = info })
                : throw new GrpcException(StatusCode.NotFound, r.Path + " does not exist");
        });
        registry.AddUnary(Fs, "ListStatus", ListStatusRequest.Parser, (ListStatusRequest r, ServerCallContext ctx) =>
        {
            stub.Advertise(ctx);
            var response = new ListStatusResponse();
            response.Entries.AddRange(stub._files.Values.Where(f => f.Path.StartsWith(r.Path + "/", StringComparison.Ordinal)).OrderBy(f => f.Name, StringComparer.Ordinal).Take(r.Limit == 0 ? 1000 : (int)r.Limit));
            return ValueTask.FromResult(response);
        });
        stub._host = await GrpcServerHost.StartAsync(registry);
        return stub;
    }

    public ValueTask DisposeAsync() => _host.DisposeAsync();

    private void Advertise(ServerCallContext ctx) => ctx.ResponseTrailers.Add("hamaster-leader", Address);

    private FileInfo Create(string path, InodeKind kind, ServerCallContext ctx, bool existingOk)
    {
        Advertise(ctx);
        var info = new FileInfo { Id = (ulong)Interlocked.Increment(ref _nextId), Path = path, Name = path[(path.LastIndexOf('/') + 1)..], Kind = kind, Mode = 420 };
        if (!_files.TryAdd(path, info) && !existingOk)
        {
            throw new GrpcException(StatusCode.AlreadyExists, path + " already exists");
        }

        return info;
    }
}
