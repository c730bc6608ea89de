using HaMaster.Raft;
using HaMaster.Server.Raft;

namespace HaMaster.Server.Tests.Simulation;

/// <summary>
/// Scripted runs of the host simulation that reproduce issue 21's host bugs: each runs once with the
/// old behaviour injected (the invariant check must catch it) and once with the fix (it must hold).
/// </summary>
public class HostScenarioTests
{
    private static SimHostCluster Quiet(SimOptions options)
    {
        var sim = new SimHostCluster(options) { CrashPointsArmed = false };
        return sim;
    }

    private static SimHostNode ElectLeader(SimHostCluster sim)
    {
        Assert.True(sim.RunUntil(() => sim.Leader() is { } l && l.Machine!.AppliedIndex > 0, 400), "no leader elected");
        return sim.Leader()!;
    }

    /// <summary>Proposes <paramref name="count"/> commands on the leader and runs until the leader applied them.</summary>
    private static void Commit(SimHostCluster sim, SimHostNode leader, int count)
    {
        var tasks = Enumerable.Range(0, count).Select(i => sim.Propose(leader, $"c{sim.Step}-{i}")).ToList();
        Assert.True(sim.RunUntil(() => tasks.All(t => t.IsCompleted), 2000), "proposals did not complete");
        Assert.All(tasks, t => Assert.True(t.IsCompletedSuccessfully, $"{t.Exception?.Message} at step {sim.Step}; " + string.Join("; ", sim.Nodes.Where(n => n.Up).Select(n => $"m{n.Id} {n.Host!.Observed.Role} t{n.Host.Observed.Term} applied {n.Machine!.AppliedIndex} last {n.Log!.LastIndex}"))));
    }

    /// <summary>
    /// Bug 1: an old leader, cut off, appends entries that never commit; the majority commits past
    /// them, snapshots and compacts; the old leader gets that snapshot and crashes right after
    /// recording the install. Its restart must not keep its divergent entries below the commit index.
    /// </summary>
    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void A_restart_in_the_middle_of_an_install_does_not_keep_a_divergent_log(bool oldRule)
    {
        using var sim = Quiet(new SimOptions { Seed = 11, Nodes = 3, MessageLoss = 0, BugSkipLogTermCheck = oldRule });
        var old = ElectLeader(sim);
        Commit(sim, old, 5);

        sim.Isolate(old.Id);
        var stale = Enumerable.Range(0, 100).Select(i => sim.Propose(old, $"stale-{i}")).ToList();
        Assert.True(sim.RunUntil(() => sim.Leader() is { } l && l != old, 600), "the majority elected no new leader");
        var leader = sim.Leader()!;
        Commit(sim, leader, 60);
        Assert.True(leader.Snapshots!.Latest!.Index > old.Log!.FirstIndex, "the new leader took no snapshot past the old leader's log start");
        Assert.True(old.Log!.LastIndex >= leader.Snapshots.Latest.Index, "the old leader's log must reach the snapshot for this test");

        sim.CrashOnce = (old.Id, CrashPoints.InstallIntentRecorded);
        sim.HealAll();
        Assert.True(sim.RunUntil(() => !old.Up, 600), "the old leader never received the snapshot");

        var restart = Record.Exception(() => sim.Restart(old));
        var failure = restart ?? Record.Exception(() => sim.RunUntil(() => false, 200));
        if (oldRule)
        {
            var e = Assert.IsType<SimulationFailure>(failure);
            Assert.Contains("below its commit index", e.Message);
            return;
        }

        Assert.Null(failure);
        Assert.True(old.Up);
        Assert.Equal(leader.Machine!.Digest, sim.RunUntil(() => old.Machine!.AppliedIndex == leader.Machine!.AppliedIndex, 400) ? old.Machine!.Digest : 0);
    }

    /// <summary>
    /// Bug 2: a follower misses two membership changes, then installs a snapshot that holds them and
    /// crashes after publishing it. Its restart must run the snapshot's membership, not the older
    /// one in cluster.state.
    /// </summary>
    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void A_restart_after_publishing_a_snapshot_runs_the_snapshots_membership(bool oldOrder)
    {
        using var sim = Quiet(new SimOptions { Seed = 12, Nodes = 4, MessageLoss = 0, BugClusterStateAfterPublish = oldOrder });
        var leader = ElectLeader(sim);
        Commit(sim, leader, 3);
        var lagging = sim.Nodes.First(n => n.Id != leader.Id && n.Id <= 3);
        sim.Isolate(lagging.Id);

        var added = leader.Host!.ProposeConfigChangeAsync(new ConfigChange(ConfigChangeKind.AddLearner, 4), CancellationToken.None);
        Assert.True(sim.RunUntil(() => added.IsCompleted, 400));
        Assert.True(added.IsCompletedSuccessfully, added.Exception?.Message);
        Commit(sim, leader, 5); // the learner catches up
        var promoted = leader.Host.ProposeConfigChangeAsync(new ConfigChange(ConfigChangeKind.PromoteLearner, 4), CancellationToken.None);
        Assert.True(sim.RunUntil(() => promoted.IsCompleted, 400));
        Assert.True(promoted.IsCompletedSuccessfully, promoted.Exception?.Message);
        Commit(sim, leader, 60); // snapshots past both changes, log compacted past the lagging master
        Assert.True(leader.Snapshots!.Latest!.Index > lagging.Log!.LastIndex);

        sim.CrashOnce = (lagging.Id, CrashPoints.InstallPublished);
        sim.HealAll();
        Assert.True(sim.RunUntil(() => !lagging.Up, 600), "the lagging master never received the snapshot");

        var failure = Record.Exception(() => sim.Restart(lagging)) ?? Record.Exception(() => sim.RunUntil(() => false, 50));
        if (oldOrder)
        {
            var e = Assert.IsType<SimulationFailure>(failure);
            Assert.Contains("runs the membership as of index", e.Message);
            return;
        }

        Assert.Null(failure);
        Assert.Equal(new ClusterConfig([1, 2, 3, 4]), lagging.Host!.AppliedConfig);
    }

    /// <summary>
    /// Issue 21 item 6: a proposal still waiting at an index that a newer term's leader (this master
    /// again) reuses fails as lost instead of never completing.
    /// </summary>
    [Fact]
    public void A_pending_proposal_at_a_reused_index_fails_instead_of_hanging()
    {
        using var sim = Quiet(new SimOptions { Seed = 13, Nodes = 3, MessageLoss = 0 });
        var first = ElectLeader(sim);
        Commit(sim, first, 2);

        // Cut off, the leader accepts proposals that cannot commit.
        sim.Isolate(first.Id);
        var orphans = Enumerable.Range(0, 5).Select(i => sim.Propose(first, $"orphan-{i}")).ToList();
        sim.RunStep();
        Assert.True(sim.RunUntil(() => sim.Leader() is { } l && l != first, 600));
        var second = sim.Leader()!;
        Commit(sim, second, 1); // the new leader's entries replace the orphans' first indexes

        // Healed, the first master takes the second's entries (losing the orphans' first indexes), then
        // leadership moves back to it: it proposes at the remaining orphans' indexes.
        sim.HealAll();
        Assert.True(sim.RunUntil(() => first.Machine!.AppliedIndex >= second.Machine!.AppliedIndex, 600));
        Assert.True(sim.RunUntil(() =>
        {
            if (sim.Step % 60 == 0 && second.Host!.Observed.IsLeader) second.Host.BeginLeadershipTransfer(first.Id);
            return first.Host!.Observed.IsLeader;
        }, 1500), "leadership did not move back to the first master");
        Commit(sim, first, 8);

        Assert.All(orphans, t =>
        {
            Assert.True(t.IsCompleted, "a proposal whose index was reused never completed");
            Assert.IsType<ProposalLostException>(t.Exception!.InnerException);
        });
    }
}
