using HaMaster.Raft;

namespace HaMaster.Raft.Tests.Unit;

/// <summary>
/// Issue 21, items 3-5: behaviours a review of the host suspected, settled with tests of the core.
/// </summary>
public sealed class HostReviewSettlementTests
{
    private static byte[] Ctx(int i) => [(byte)i];

    /// <summary>
    /// Item 3: with lease reads, a "leader is gone" hint (a refused connection, which does not prove the
    /// leader's process is dead) must not end the lease the followers granted: otherwise they elect a
    /// new leader that commits while the old one still answers reads from its lease (a stale read).
    /// </summary>
    [Fact]
    public void With_lease_reads_a_leader_gone_hint_does_not_end_the_lease()
    {
        var c = new TestCluster(3, o => o with { PreVote = true, CheckQuorum = true, LeaseReads = true, ElectionTicks = 10 });
        for (var i = 0; i < 10; i++) foreach (var n in c.Nodes.Values) n.Tick(); // start-up quiet period
        c.Elect(1);
        c.TickAll(2);
        c.Isolated.Add(1); // alive and serving reads, but cut off from the followers

        Assert.False(c[2].ForgetLeader(1));
        Assert.False(c[3].ForgetLeader(1));
        for (var t = 0; t < 4; t++)
        {
            c[2].Tick();
            c[3].Tick();
            c.Stabilize();
        }

        Assert.NotEqual(RaftRole.Leader, c[2].Role);
        Assert.NotEqual(RaftRole.Leader, c[3].Role);
        c[1].ReadIndex(Ctx(1));
        c.Flush(1);
        Assert.Single(c.Reads[1]); // still served from its lease, and nobody else can have committed since
    }

    [Fact]
    public void Without_lease_reads_the_hint_still_speeds_up_failover()
    {
        var c = new TestCluster(3, o => o with { PreVote = true, CheckQuorum = true, ElectionTicks = 10 });
        c.Elect(1);
        c.Isolated.Add(1);
        Assert.True(c[2].ForgetLeader(1));
        Assert.True(c[3].ForgetLeader(1));
    }

    /// <summary>
    /// Item 4: a transfer to a master that just restarted (it does not know the leader yet) used to drop
    /// the TimeoutNow and time out.
    /// </summary>
    [Fact]
    public void A_transfer_to_a_target_that_just_restarted_completes()
    {
        var c = new TestCluster(3, o => o with { PreVote = true, CheckQuorum = true });
        c.Elect(1);
        c[1].Propose(TestCluster.Data("x"));
        c.Stabilize();
        c.Restart(2);
        Assert.Equal(0UL, c[2].LeaderId);

        c[1].TransferLeadership(2);
        c.Stabilize();

        Assert.Equal(RaftRole.Leader, c[2].Role);
        Assert.Equal(2UL, c[3].LeaderId);
    }

    [Fact]
    public void A_lost_TimeoutNow_is_sent_again_when_the_target_answers_a_heartbeat()
    {
        var c = new TestCluster(3, o => o with { PreVote = true, CheckQuorum = true });
        c.Elect(1);
        var dropped = 0;
        c.Drop = m => m.Type == MessageType.TimeoutNow && dropped++ == 0;
        c[1].TransferLeadership(2);
        c.Stabilize();
        Assert.Equal(RaftRole.Leader, c[1].Role);

        c.TickAll(1); // heartbeat, response, TimeoutNow again

        Assert.Equal(1, dropped - 1);
        Assert.Equal(RaftRole.Leader, c[2].Role);
    }

    /// <summary>
    /// Item 5: a removed voter used to stop receiving the log at once, so it never saw the entry that removed
    /// it: it kept pre-voting forever and its host reported it as a voter.
    /// </summary>
    [Fact]
    public void A_removed_voter_receives_its_removal_and_stops_campaigning()
    {
        var c = new TestCluster(3, o => o with { PreVote = true, CheckQuorum = true, ElectionTicks = 10 });
        c.Elect(1);
        Assert.Equal(ProposeStatus.Accepted, c[1].ProposeConfigChange(new ConfigChange(ConfigChangeKind.RemoveNode, 3)).Status);
        c.Stabilize();

        Assert.False(c[3].Configuration.Contains(3));
        Assert.DoesNotContain(c[1].Status.Progress, p => p.Id == 3); // the leader let go of it once it had the entry

        c.Sent.Clear();
        for (var t = 0; t < 40; t++)
        {
            c[3].Tick();
            c.Flush(3);
        }

        Assert.DoesNotContain(c.Sent, m => m.From == 3 && m.Type is MessageType.PreVote or MessageType.Vote);
    }

    [Fact]
    public void A_removed_voter_that_is_down_is_given_up_after_a_check_quorum_interval()
    {
        var c = new TestCluster(3, o => o with { PreVote = true, CheckQuorum = true, ElectionTicks = 10 });
        c.Elect(1);
        c.Isolated.Add(3);
        Assert.Equal(ProposeStatus.Accepted, c[1].ProposeConfigChange(new ConfigChange(ConfigChangeKind.RemoveNode, 3)).Status);
        c.Stabilize();
        Assert.Contains(c[1].Status.Progress, p => p.Id == 3 && p.IsLearner); // still trying, counted in no quorum

        for (var t = 0; t < 25; t++)
        {
            c[1].Tick();
            c[2].Tick();
            c.Stabilize();
        }

        Assert.Equal(RaftRole.Leader, c[1].Role);
        Assert.DoesNotContain(c[1].Status.Progress, p => p.Id == 3);
    }
}
