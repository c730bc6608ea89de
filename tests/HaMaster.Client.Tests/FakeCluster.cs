using System.Collections.Concurrent;
using HaMaster.Protos.V1;

namespace HaMaster.Client.Tests;

/// <summary>
/// A fake three-member cluster: a leader, a follower that redirects (UNAVAILABLE + hamaster-leader),
/// and a member that is down (a closed port). They share one namespace and the exactly-once
/// result table.
/// </summary>
internal sealed class FakeCluster : IAsyncDisposable
{
    private FakeCluster()
    {
    }

    public FakeNamespace Namespace { get; } = new();

    public ConcurrentDictionary<(string ClientId, ulong Sequence), object> Results { get; } = new();

    public FakeMaster Leader { get; private set; } = null!;

    public FakeMaster Follower { get; private set; } = null!;

    public string DownAddress { get; private set; } = "";

    /// <summary>The address advertised in hamaster-leader trailers (empty = none).</summary>
    public string LeaderAddress { get; set; } = "";

    public static async Task<FakeCluster> StartAsync()
    {
        var cluster = new FakeCluster();
        cluster.Leader = await FakeMaster.StartAsync(cluster, 1, FakeRole.Leader);
        cluster.Follower = await FakeMaster.StartAsync(cluster, 2, FakeRole.Redirector);
        cluster.DownAddress = FakeMaster.ClosedAddress();
        cluster.LeaderAddress = cluster.Leader.Address;
        return cluster;
    }

    public HaMasterClientOptions Options(params string[] seeds) => new()
    {
        Seeds = seeds,
        CallTimeout = TimeSpan.FromSeconds(5),
        TotalRetryBudget = TimeSpan.FromSeconds(10),
        InitialBackoff = TimeSpan.FromMilliseconds(10),
        MaxBackoff = TimeSpan.FromMilliseconds(100),
    };

    public GetClusterInfoResponse Info(ulong answeredBy, bool reportLeader)
    {
        var info = new GetClusterInfoResponse { Term = 3, AnsweredBy = answeredBy };
        if (reportLeader)
        {
            info.LeaderId = Leader.Id;
            info.LeaderAddress = LeaderAddress;
        }

        info.Members.Add(Member(Leader.Id, Leader.Address, reportLeader ? MasterRole.Leader : MasterRole.Follower));
        info.Members.Add(Member(Follower.Id, Follower.Address, MasterRole.Follower));
        info.Members.Add(Member(3, DownAddress, MasterRole.Unreachable));
        return info;
    }

    public async ValueTask DisposeAsync()
    {
        await Leader.DisposeAsync();
        await Follower.DisposeAsync();
    }

    private static MasterInfo Member(ulong id, string address, MasterRole role) => new()
    {
        Id = id,
        ClientAddress = address,
        PeerAddress = "127.0.0.1:" + (29200 + id),
        Role = role,
        Voter = true,
        Term = 3,
        LastLogIndex = 120,
        CommitIndex = 120,
        AppliedIndex = 119,
        SnapshotIndex = 100,
    };
}
