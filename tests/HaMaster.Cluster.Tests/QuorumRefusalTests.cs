using HaMaster.Chaos.Core.Processes;
using HaMaster.Cluster.Tests.Infrastructure;
using Grpc.Core;

namespace HaMaster.Cluster.Tests;

/// <summary>Issue 6: RemoveMaster refuses a change that would leave no live quorum, with the reason, and removes a dead master.</summary>
public sealed class QuorumRefusalTests(ThreeMasterFixture fixture) : IClassFixture<ThreeMasterFixture>
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(90);

    private TestCluster Cluster => fixture.Cluster;

    [Fact]
    public async Task Removing_the_last_live_follower_is_refused_with_a_reason_and_the_dead_one_can_be_removed()
    {
        var admin = Cluster.CreateAdminClient();
        var (leader, followers) = await Cluster.RolesAsync();
        var (live, dead) = (followers[0], followers[1]);
        await admin.CreateDirectoryAsync("/refusal", recursive: true);
        await Cluster.RetireAsync(dead);

        // The leader must know the dead master is no longer caught up. Rather than waiting for its
        // liveness to expire on the leader's clock, write until the dead master is provably behind:
        // more than 1024 entries (the core's catch-up bound) past its last acknowledged index.
        await using (var writers = new BackgroundWriters(Enumerable.Range(0, 8).Select(_ => Cluster.CreateClient()).ToList(), "/refusal"))
        {
            await Eventually.TrueAsync("the dead master to lag more than 1100 entries", async () =>
            {
                var info = await Cluster.ClusterInfoAsync(leader);
                var last = info.Members.Single(m => m.Id == leader).LastLogIndex;
                var match = info.Members.Single(m => m.Id == dead).MatchIndex;
                return last > match + 1100;
            }, Wait, Cluster.Diagnostics);
            await writers.StopAsync(Wait);
            Assert.Empty(writers.Errors);
        }

        // {leader, dead} would need the dead master for every commit: refused, with the reason.
        var refused = await Expect.StatusAsync(StatusCode.FailedPrecondition, () => admin.RemoveMasterAsync(live).AsTask());
        Assert.Contains("quorum", refused.Detail);
        var unchanged = await Cluster.ClusterInfoAsync(leader);
        Assert.Equal(3, unchanged.Members.Count);

        // Removing the dead master leaves {leader, live}: allowed, and the cluster keeps writing.
        var after = await admin.RemoveMasterAsync(dead);
        Assert.Equal(new[] { leader, live }.Order(), after.Members.Select(m => m.Id).Order());
        var created = await admin.CreateFileAsync("/refusal/after-removal");
        Assert.Equal("/refusal/after-removal", created.Path);
        Assert.Equal(2, (await Cluster.ClusterInfoAsync(live)).Members.Count);
    }
}
