using HaMaster.Cluster.Tests.Infrastructure;
using HaMaster.Protos.V1;

namespace HaMaster.Cluster.Tests;

/// <summary>Issue 6: cluster formation and leader discovery from any seed.</summary>
[Collection(SharedClusterCollection.Name)]
public sealed class FormationTests(SharedClusterFixture fixture)
{
    private TestCluster Cluster => fixture.Cluster;

    [Fact]
    public async Task Every_master_reports_the_same_leader_and_three_voters()
    {
        var leader = await Cluster.WaitForLeaderAsync();
        foreach (var master in Cluster.Masters)
        {
            var info = await Cluster.ClusterInfoAsync(master.Id);
            Assert.Equal(master.Id, info.AnsweredBy);
            Assert.Equal(leader, info.LeaderId);
            Assert.Equal(Cluster.Master(leader).ClientAddress, info.LeaderAddress);
            Assert.True(info.Term > 0, "a leader was elected in a term > 0");
            Assert.Equal(new ulong[] { 1, 2, 3 }, info.Members.Select(m => m.Id).Order());
            Assert.All(info.Members, m => Assert.True(m.Voter, $"master {m.Id} should be a voter"));
            Assert.Equal(leader, Assert.Single(info.Members, m => m.Role == MasterRole.Leader).Id);
            Assert.All(info.Members.Where(m => m.Id != leader), m => Assert.Equal(MasterRole.Follower, m.Role));
            Assert.All(info.Members, m => Assert.Equal(Cluster.Master(m.Id).ClientAddress, m.ClientAddress));
            Assert.All(info.Members, m => Assert.Equal(Cluster.Master(m.Id).PeerAddress, m.PeerAddress));
        }
    }

    [Fact]
    public async Task The_web_status_page_of_every_master_agrees_on_the_leader()
    {
        var leader = await Cluster.WaitForLeaderAsync();
        foreach (var master in Cluster.Masters)
        {
            var status = await Cluster.WebStatusAsync(master.Id);
            Assert.Equal(master.Id, status.GetProperty("id").GetUInt64());
            Assert.Equal(leader, status.GetProperty("leaderId").GetUInt64());
            Assert.Equal(master.Id == leader ? "leader" : "follower", status.GetProperty("role").GetString(), ignoreCase: true);
        }
    }

    [Fact]
    public async Task A_client_seeded_with_any_single_master_finds_the_leader_and_learns_every_member()
    {
        var leader = await Cluster.WaitForLeaderAsync();
        var leaderAddress = Cluster.Master(leader).ClientAddress;
        foreach (var seed in Cluster.Masters)
        {
            var client = Cluster.CreateClient([seed.Id]);
            Assert.Null(client.CachedLeader);
            var info = await client.DiscoverAsync();
            Assert.Equal(leader, info.LeaderId);
            Assert.Equal(leaderAddress, client.CachedLeader);
            Assert.Equal(Cluster.Masters.Select(m => m.ClientAddress).Order(), client.KnownMasters.Order());

            // The discovered leader serves the client's writes and reads.
            var path = $"/discovery/from-{seed.Id}";
            var created = await client.CreateDirectoryAsync(path, recursive: true);
            Assert.Equal(path, created.Path);
            Assert.Equal(InodeKind.Directory, (await client.GetStatusAsync(path)).Kind);
        }
    }

    [Fact]
    public async Task A_client_seeded_only_with_a_follower_follows_the_leader_trailer()
    {
        var (leader, followers) = await Cluster.RolesAsync();
        var client = Cluster.CreateClient([followers[0]]);
        var info = await client.CreateDirectoryAsync("/trailer-redirect", recursive: true);
        Assert.Equal("/trailer-redirect", info.Path);
        // The answer (forwarded by the follower, or after discovery) named the leader: the next call goes straight there.
        Assert.Equal(Cluster.Master(leader).ClientAddress, client.CachedLeader);
    }
}
