using Grpc.Core;
using HaMaster.Protos.V1;

namespace HaMaster.Client.Tests;

/// <summary>
/// <see cref="CallRouter"/> on its own (issue 20): where attempts go and what the roster learns
/// from them, without a <see cref="HaMasterClient"/> around it.
/// </summary>
public sealed class CallRouterTests : IAsyncLifetime
{
    private static readonly UnaryStub<GetStatusRequest, GetStatusResponse> GetStatus = static (m, r, o) => m.FileSystem.GetStatusAsync(r, o);
    private static readonly UnaryStub<CreateFileRequest, CreateFileResponse> CreateFile = static (m, r, o) => m.FileSystem.CreateFileAsync(r, o);
    private FakeCluster _cluster = null!;

    public async Task InitializeAsync() => _cluster = await FakeCluster.StartAsync();

    public async Task DisposeAsync() => await _cluster.DisposeAsync();

    private static ClientSession Session(ulong sequence) => new() { ClientId = "router-test", Sequence = sequence };

    [Fact]
    public async Task A_router_that_follows_the_leader_discovers_it_and_sends_calls_there()
    {
        using var roster = new MasterRoster([_cluster.Follower.Address]);
        var router = new CallRouter(_cluster.Options(_cluster.Follower.Address), roster, pinned: null);

        await router.InvokeAsync("/hamaster.v1.FileSystemMaster/CreateFile", new CreateFileRequest { Path = "/r", Session = Session(1) }, CreateFile, CallKind.SessionWrite, CancellationToken.None);

        Assert.Equal(_cluster.Leader.Address, roster.Leader);
        Assert.Equal(1, _cluster.Leader.Calls("CreateFile"));
        Assert.Equal(0, _cluster.Follower.Calls("CreateFile"));
        Assert.Equal(3, roster.Known.Count); // members learned from the discovery answer
    }

    [Fact]
    public async Task A_pinned_router_ignores_redirects_and_learns_no_leader()
    {
        using var roster = new MasterRoster([_cluster.Follower.Address]);
        var options = _cluster.Options(_cluster.Follower.Address) with { Retry = false, FollowLeader = false };
        var router = new CallRouter(options, roster, MasterEndpoint.Normalize(_cluster.Follower.Address));

        var error = await Assert.ThrowsAsync<HaMasterUnavailableException>(async () =>
            await router.InvokeAsync("/hamaster.v1.FileSystemMaster/CreateFile", new CreateFileRequest { Path = "/p", Session = Session(2) }, CreateFile, CallKind.SessionWrite, CancellationToken.None));

        Assert.Equal(StatusCode.Unavailable, error.Status);
        Assert.Equal(1, _cluster.Follower.Calls("CreateFile"));
        Assert.Equal(0, _cluster.Leader.Calls("CreateFile"));
        Assert.Equal(0, _cluster.Follower.Calls("GetClusterInfo"));
        Assert.Null(roster.Leader);
    }

    [Fact]
    public async Task A_caller_that_cancels_gets_a_cancellation_not_a_server_status()
    {
        using var roster = new MasterRoster([_cluster.DownAddress]);
        var router = new CallRouter(_cluster.Options(_cluster.DownAddress), roster, pinned: null);
        using var cancelled = new CancellationTokenSource();
        await cancelled.CancelAsync();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(async () =>
            await router.InvokeAsync("/hamaster.v1.FileSystemMaster/GetStatus", new GetStatusRequest { Path = "/" }, GetStatus, CallKind.Read, cancelled.Token));
    }
}
