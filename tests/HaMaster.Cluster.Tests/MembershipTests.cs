using HaMaster.Chaos.Core.Processes;
using HaMaster.Cluster.Tests.Infrastructure;
using Grpc.Core;
using HaMaster.Protos.V1;

namespace HaMaster.Cluster.Tests;

/// <summary>
/// Issue 6: add a fourth master while writes run, remove a master, transfer leadership. The
/// masters snapshot every 30 entries and keep only 10 behind, so a newcomer cannot be sent
/// the log from the start and must be sent a snapshot. Each test works from the cluster's
/// current membership, so their order does not matter.
/// </summary>
public sealed class MembershipTests(CompactingClusterFixture fixture) : IClassFixture<CompactingClusterFixture>
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(60);

    private TestCluster Cluster => fixture.Cluster;

    [Fact]
    public async Task A_master_added_while_writes_run_catches_up_by_snapshot_is_promoted_and_holds_the_same_data()
    {
        await Cluster.EnsureAllRunningAsync();
        var admin = Cluster.CreateAdminClient();
        await admin.CreateDirectoryAsync("/join", recursive: true);
        await using var writers = new BackgroundWriters([Cluster.CreateClient(), Cluster.CreateClient(), Cluster.CreateClient(), Cluster.CreateClient()], "/join");
        await writers.WaitForCountAsync(80, Wait, Cluster.Diagnostics);

        // The leader has compacted its log behind a snapshot: the start of the log is gone.
        await Eventually.TrueAsync("the leader to take a snapshot", async () =>
        {
            var leader = await Cluster.WaitForLeaderAsync();
            var info = await Cluster.ClusterInfoAsync(leader);
            return info.Members.Single(m => m.Id == leader).SnapshotIndex > 0;
        }, Wait, Cluster.Diagnostics);

        var newcomer = await Cluster.StartJoiningMasterAsync();
        var before = writers.Count;
        var added = await admin.AddMasterAsync(TestCluster.AddRequestFor(newcomer));
        var member = Assert.Single(added.Members, m => m.Id == newcomer.Id);
        Assert.True(member.Voter, "AddMaster returns once the new master is a voter");
        Assert.Equal(newcomer.ClientAddress, member.ClientAddress);
        Assert.True(writers.Count > before, "writes kept being acknowledged while the master was added");

        // Writes continue with the new voter in the quorum.
        await writers.WaitForCountAsync(writers.Count + 40, Wait, Cluster.Diagnostics);
        await writers.StopAsync(Wait);
        Assert.Empty(writers.Errors);

        // It caught up by snapshot, not by replaying a log that no longer exists.
        var installed = await newcomer.WaitForOutputAsync(l => l.Contains("installed snapshot", StringComparison.Ordinal), Wait);
        Assert.Contains("received from the leader", installed);

        var expected = writers.Acknowledged.Select(p => p[(p.LastIndexOf('/') + 1)..]).Order(StringComparer.Ordinal).ToList();
        var listed = new List<string>();
        await foreach (var entry in admin.ListAllAsync("/join"))
        {
            listed.Add(entry.Name);
        }

        Assert.Equal(expected, listed);

        // The newcomer's own copy (a stale read answers from its local state only) converges to the same listing and inode count.
        await Eventually.TrueAsync("the new master's local listing to match", async () =>
            (await Cluster.ListNamesOnAsync(newcomer.Id, "/join", Consistency.Stale)).SequenceEqual(expected), Wait, Cluster.Diagnostics);
        var leaderNow = await Cluster.WaitForLeaderAsync();
        await Eventually.TrueAsync("equal inode counts on /api/status", async () =>
            (await Cluster.WebStatusAsync(newcomer.Id)).GetProperty("inodes").GetInt64() == (await Cluster.WebStatusAsync(leaderNow)).GetProperty("inodes").GetInt64(),
            Wait, Cluster.Diagnostics);

        var seenByNewcomer = await Cluster.ClusterInfoAsync(newcomer.Id);
        Assert.Equal(leaderNow, seenByNewcomer.LeaderId);
        var self = Assert.Single(seenByNewcomer.Members, m => m.Id == newcomer.Id);
        Assert.True(self.Voter, "the new master sees itself as a voter");
        Assert.Contains(self.Role, new[] { MasterRole.Follower, MasterRole.Leader });
    }

    [Fact]
    public async Task Leadership_transfer_returns_once_the_target_leads()
    {
        await Cluster.EnsureAllRunningAsync();
        var admin = Cluster.CreateAdminClient();
        var (leader, followers) = await Cluster.RolesAsync();
        var target = followers[0];

        Assert.Equal(target, await admin.TransferLeadershipAsync(target));
        // No waiting: when the call returns, the target already leads.
        var info = await Cluster.ClusterInfoAsync(target);
        Assert.Equal(target, info.LeaderId);
        Assert.Equal(MasterRole.Leader, info.Members.Single(m => m.Id == target).Role);
        var created = await Expect.RetryUnavailableAsync(() => Cluster.RawClient(target).CreateDirectoryAsync($"/transferred-to-{target}", recursive: true).AsTask());
        Assert.Equal($"/transferred-to-{target}", created.Path);

        // Target 0: the leader picks the most caught-up other voter.
        var picked = await admin.TransferLeadershipAsync(0);
        Assert.NotEqual(target, picked);
        Assert.Equal(picked, await Cluster.WaitForLeaderAsync());

        // A master that is not a voter is refused with the reason.
        var refused = await Expect.StatusAsync(StatusCode.FailedPrecondition, () => admin.TransferLeadershipAsync(99).AsTask());
        Assert.Contains("not a voter", refused.Detail);
        _ = leader;
    }

    [Fact]
    public async Task Removing_a_live_follower_shrinks_the_membership_and_writes_continue()
    {
        await Cluster.EnsureAllRunningAsync();
        var admin = Cluster.CreateAdminClient();
        var (leader, followers) = await Cluster.RolesAsync();
        Assert.True(followers.Length >= 2, "the cluster has at least three voters");
        var victim = followers[^1];

        var after = await admin.RemoveMasterAsync(victim);
        Assert.DoesNotContain(after.Members, m => m.Id == victim);
        Assert.Equal(followers.Length, after.Members.Count);

        // Every remaining member applies the change; the removed master is no longer needed for writes.
        await Cluster.RetireAsync(victim);
        foreach (var id in after.Members.Select(m => m.Id))
        {
            await Eventually.TrueAsync($"master {id} to drop master {victim}", async () =>
                (await Cluster.ClusterInfoAsync(id)).Members.All(m => m.Id != victim), Wait, Cluster.Diagnostics);
        }

        var created = await admin.CreateDirectoryAsync($"/after-removing-{victim}", recursive: true);
        Assert.Equal($"/after-removing-{victim}", created.Path);

        var again = await Expect.StatusAsync(StatusCode.NotFound, () => admin.RemoveMasterAsync(victim).AsTask());
        Assert.Contains("not a member", again.Detail);
        _ = leader;
    }
}
