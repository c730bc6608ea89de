using HaMaster.Raft;

namespace HaMaster.Raft.Tests.Unit;

/// <summary>
/// <see cref="RawNode.ForgetLeader"/>: a failure detector's hint that the leader is gone lets the followers elect a
/// successor within a few ticks instead of an election timeout, without weakening safety.
/// </summary>
public sealed class ForgetLeaderTests
{
    private static TestCluster NewCluster(int voters = 3, int learners = 0) =>
        new(voters, o => o with { PreVote = true, CheckQuorum = true, ElectionTicks = 10 }, learners);

    /// <summary>Leader 1 is gone (isolated) and a failure detector tells both survivors, which forget it.</summary>
    private static void LeaderDiesAndSurvivorsAreTold(TestCluster c)
    {
        c.Isolated.Add(1);
        Assert.True(c[2].ForgetLeader(1));
        Assert.True(c[3].ForgetLeader(1));
        c.FlushAll();
    }

    /// <summary>Ticks nodes 2 and 3 (node 1, the old leader, is gone) up to <paramref name="ticks"/> times or until <paramref name="done"/>.</summary>
    private static void TickSurvivors(TestCluster c, int ticks, Func<bool> done)
    {
        for (var t = 0; t < ticks && !done(); t++)
        {
            c[2].Tick();
            c[3].Tick();
            c.Stabilize();
        }
    }

    [Fact]
    public void Followers_told_the_leader_is_gone_elect_a_successor_within_a_few_ticks()
    {
        var c = NewCluster();
        c.Elect(1);
        c[1].Propose(TestCluster.Data("before"));
        c.Stabilize();
        var term = c[1].Term;
        c.Isolated.Add(1); // the leader's process died
        c[2].Tick();
        c[3].Tick();
        Assert.True(c[2].LeaderSilenceTicks >= 1);
        LeaderDiesAndSurvivorsAreTold(c);
        Assert.Equal(0UL, c[2].LeaderId);
        TickSurvivors(c, 3, () => c[2].Role == RaftRole.Leader || c[3].Role == RaftRole.Leader);

        // Node 2 ranks first among the survivors: it campaigned first and won one term later (no split vote).
        Assert.Equal(RaftRole.Leader, c[2].Role);
        Assert.Equal(term + 1, c[2].Term);
        Assert.Equal(2UL, c[3].LeaderId);
        Assert.Equal(ProposeStatus.Accepted, c[2].Propose(TestCluster.Data("after")).Status);
        c.Stabilize();
        Assert.Equal(["before", "after"], c.AppliedData(3).Select(d => System.Text.Encoding.UTF8.GetString(d)));
    }

    [Fact]
    public void Without_the_hint_the_followers_wait_out_the_election_timeout()
    {
        var c = NewCluster();
        c.Elect(1);
        c.Isolated.Add(1);
        TickSurvivors(c, 3, () => false);

        Assert.NotEqual(RaftRole.Leader, c[2].Role);
        Assert.NotEqual(RaftRole.Leader, c[3].Role);
        Assert.Equal(1UL, c[2].LeaderId);
    }

    [Fact]
    public void The_second_ranked_follower_campaigns_when_the_first_cannot_win()
    {
        var c = NewCluster();
        c.Elect(1);
        // Node 2 misses the last entry: its log is behind node 3's, so node 3 must not vote for it.
        c.Drop = m => m.To == 2 && m.Type == MessageType.Append && m.Entries.Count > 0;
        c[1].Propose(TestCluster.Data("only on 1 and 3"));
        c.Stabilize();
        c.Drop = null;
        LeaderDiesAndSurvivorsAreTold(c);
        TickSurvivors(c, 6, () => c[3].Role == RaftRole.Leader);

        Assert.Equal(RaftRole.Leader, c[3].Role);
        Assert.Equal(3UL, c[2].LeaderId);
    }

    [Fact]
    public void A_wrong_hint_does_not_depose_a_live_leader_that_the_others_still_hear()
    {
        var c = NewCluster();
        c.Elect(1);
        var term = c[1].Term;
        Assert.True(c[2].ForgetLeader(1)); // wrong: the leader is alive
        c.FlushAll();
        for (var t = 0; t < 4; t++) c.TickAll();

        // Node 3 (in its lease) and the leader ignore node 2's pre-vote; the leader's heartbeats bring node 2 back.
        Assert.Equal(RaftRole.Leader, c[1].Role);
        Assert.Equal(term, c[1].Term);
        Assert.Equal(1UL, c[2].LeaderId);
        Assert.Equal(term, c[2].Term);
    }

    [Fact]
    public void Stale_hints_and_hints_to_leaders_or_learners_do_not_start_elections()
    {
        var c = NewCluster(voters: 3, learners: 1);
        c.Elect(1);
        c.TickAll();
        Assert.False(c[2].ForgetLeader(3)); // follows 1, not 3
        Assert.Equal(1UL, c[2].LeaderId);
        Assert.False(c[1].ForgetLeader(1)); // the leader itself
        Assert.Equal(RaftRole.Leader, c[1].Role);

        c.Isolated.Add(1);
        Assert.True(c[4].ForgetLeader(1)); // a learner forgets the leader but never campaigns
        for (var t = 0; t < 30; t++)
        {
            c[4].Tick();
            c.Flush(4);
        }

        Assert.Equal(RaftRole.Learner, c[4].Role);
        Assert.DoesNotContain(c.Sent, m => m.From == 4 && m.Type is MessageType.PreVote or MessageType.Vote);
    }
}
