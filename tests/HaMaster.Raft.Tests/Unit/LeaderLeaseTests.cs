using HaMaster.Raft;

namespace HaMaster.Raft.Tests.Unit;

/// <summary>
/// Check-quorum leases on the follower side (thesis §4.2.3, §9.6; etcd-raft's "in lease" check): a node that heard
/// from a live leader within an election timeout neither grants nor answers (pre-)votes, so a short election
/// timeout cannot let a starved or partitioned follower depose a healthy leader, while a leader that really
/// stopped is replaced within about two election timeouts. Timing as the server's defaults: 5 ticks.
/// </summary>
public sealed class LeaderLeaseTests
{
    private const int ElectionTicks = 5;

    private static TestCluster NewCluster(ulong seed = 42) =>
        new(3, o => o with { PreVote = true, CheckQuorum = true, ElectionTicks = ElectionTicks, RandomSeed = seed });

    [Fact]
    public void A_starved_follower_that_hears_nothing_cannot_depose_a_healthy_leader()
    {
        var c = NewCluster();
        c.Elect(1);
        var term = c[1].Term;

        // Node 3 receives nothing (its inbox starves) and its clock runs three times as fast (a loop replaying missed
        // ticks): it times out again and again and pre-votes; node 2 still hears the leader and ignores it.
        c.Drop = m => m.To == 3;
        var preVotesSent = 0;
        for (var round = 0; round < 20 * ElectionTicks; round++)
        {
            c[1].Tick();
            c[2].Tick();
            for (var i = 0; i < 3; i++) c[3].Tick();
            c.FlushAll();
            preVotesSent += c.Pending.Count(m => m.Type == MessageType.PreVote && m.From == 3);
            c.Stabilize();
            Assert.Equal(RaftRole.Leader, c[1].Role);
            Assert.Equal(term, c[1].Term);
            Assert.Equal(1UL, c[2].LeaderId);
        }

        Assert.True(preVotesSent > 0, "the starved follower campaigned (pre-vote)");
        Assert.Equal(term, c[3].Term); // pre-votes never raise the term
        Assert.DoesNotContain(c.Sent, m => m.Type == MessageType.PreVoteResponse && m.To == 3 && !m.Reject);

        c.Drop = null;
        c.TickAll(2);
        Assert.Equal(RaftRole.Follower, c[3].Role);
        Assert.Equal(1UL, c[3].LeaderId);
        Assert.Equal(term, c[1].Term);
    }

    [Fact]
    public void A_follower_grants_a_pre_vote_only_once_its_own_lease_has_run_out()
    {
        var c = NewCluster();
        c.Elect(1);
        var term = c[1].Term;
        c.Isolated.Add(1); // the leader stops (SIGSTOP): nobody hears from it any more
        var preVote = new Message { Type = MessageType.PreVote, From = 3, To = 2, Term = term + 1, Index = c[3].Status.LastIndex, LogTerm = term };

        for (var t = 1; t < ElectionTicks; t++)
        {
            c[2].Tick();
            c.Flush(2);
            c.Pending.Clear();
            c[2].Step(preVote);
            c.Flush(2);
            Assert.DoesNotContain(c.Pending, m => m.Type == MessageType.PreVoteResponse); // in lease: not even an answer
            Assert.Equal(1UL, c[2].LeaderId);
        }

        c[2].Tick(); // ElectionTicks without a word from the leader: the lease node 2 granted has expired
        c.Flush(2);
        c.Pending.Clear();
        c[2].Step(preVote);
        c.Flush(2);
        var answer = Assert.Single(c.Pending, m => m.Type == MessageType.PreVoteResponse);
        Assert.False(answer.Reject);
        Assert.Equal(term, c[2].Term); // granting a pre-vote changes neither term nor vote
    }

    [Fact]
    public void A_leader_with_an_active_quorum_ignores_pre_votes_and_keeps_its_term()
    {
        var c = NewCluster();
        c.Elect(1);
        var term = c[1].Term;
        c.Pending.Clear();
        c[1].Step(new Message { Type = MessageType.PreVote, From = 3, To = 1, Term = term + 1, Index = 99, LogTerm = term });
        c[1].Step(new Message { Type = MessageType.Vote, From = 3, To = 1, Term = term + 1, Index = 99, LogTerm = term });
        c.Flush(1);
        Assert.Equal(RaftRole.Leader, c[1].Role);
        Assert.Equal(term, c[1].Term);
        Assert.DoesNotContain(c.Pending, m => m.Type is MessageType.PreVoteResponse or MessageType.VoteResponse);
    }

    [Fact]
    public void Heartbeats_late_by_less_than_an_election_timeout_never_cause_an_election()
    {
        var c = NewCluster();
        c.Elect(1);
        var term = c[1].Term;

        c.Sent.Clear(); // the election that made node 1 leader

        // An overloaded leader whose loop iteration lasts ElectionTicks - 1 ticks: its heartbeats leave in bursts
        // that far apart. Both sides' clocks keep running.
        var tick = 0;
        c.Drop = m => m.Type == MessageType.Heartbeat && tick % (ElectionTicks - 1) != 0;
        for (; tick < 40 * ElectionTicks; tick++)
        {
            c.TickAll();
            Assert.Equal(RaftRole.Leader, c[1].Role);
        }

        Assert.Equal(term, c[1].Term);
        Assert.Equal(term, c[2].Term);
        Assert.Equal(term, c[3].Term);
        Assert.DoesNotContain(c.Sent, m => m.Type is MessageType.PreVote or MessageType.Vote);
    }

    /// <summary>
    /// Followers 2 and 3 reach the end of their leases in the same instant (a stall they shared ends) and both campaign
    /// before either hears from the other: their pre-votes cross.
    /// </summary>
    private static void RunOutBothLeasesTogether(TestCluster c)
    {
        for (var t = 1; t < ElectionTicks; t++)
        {
            c[2].Tick();
            c[3].Tick();
            c.Stabilize();
        }

        c[2].Tick(); // either may campaign by itself here (a randomized timeout of exactly ElectionTicks)...
        c[3].Tick();
        c[2].Campaign(); // ...and both do now, before any message is delivered
        c[3].Campaign();
    }

    [Fact]
    public void Two_followers_that_time_out_together_do_not_split_the_vote()
    {
        var c = NewCluster();
        c.Elect(1);
        c[1].Propose(TestCluster.Data("x"));
        c.Stabilize();
        var term = c[1].Term;
        c.Isolated.Add(1); // the leader stops
        RunOutBothLeasesTogether(c);
        c.Stabilize();

        // Equal logs: the lower id proceeds, the other yields its pre-vote and then votes for it. One term, no split.
        Assert.Equal(RaftRole.Leader, c[2].Role);
        Assert.Equal(term + 1, c[2].Term);
        Assert.Equal(2UL, c[3].LeaderId);
        Assert.Equal(term + 1, c[3].Term);
    }

    [Fact]
    public void Of_two_competing_pre_candidates_the_one_with_the_longer_log_proceeds()
    {
        var c = NewCluster();
        c.Elect(1);
        c.Drop = m => m.To == 2 && m.Type == MessageType.Append; // node 2 misses the last entry
        c[1].Propose(TestCluster.Data("x"));
        c.Stabilize();
        c.Drop = null;
        var term = c[1].Term;
        c.Isolated.Add(1);
        RunOutBothLeasesTogether(c);
        c.Stabilize();

        // Node 3 holds the entry node 2 lacks: though its id is higher, it leads; node 2 never could.
        Assert.Equal(RaftRole.Leader, c[3].Role);
        Assert.Equal(term + 1, c[3].Term);
        Assert.Equal(3UL, c[2].LeaderId);
    }

    [Fact]
    public void A_pre_candidate_whose_first_pre_vote_was_ignored_wins_as_soon_as_its_rival_campaigns()
    {
        var c = NewCluster();
        c.Elect(1);
        var term = c[1].Term;
        c.Isolated.Add(1);

        // Node 2 campaigns while node 3 still hears the leader: 3 ignores the pre-vote, 2 stays pre-candidate.
        c[2].Campaign();
        c.Stabilize();
        Assert.Equal(RaftRole.PreCandidate, c[2].Role);

        // Then node 3's lease runs out and it campaigns too. 2 yields nothing to it (same log, higher id) but asks
        // again, and 3, campaigning itself, grants: 2 leads at once, without waiting out another timeout.
        for (var t = 0; t < ElectionTicks; t++) c[3].Tick();
        c[3].Campaign();
        c.Stabilize();
        Assert.Equal(RaftRole.Leader, c[2].Role);
        Assert.Equal(term + 1, c[2].Term);
        Assert.Equal(2UL, c[3].LeaderId);
    }

    [Fact]
    public void A_stopped_leader_is_replaced_within_about_two_election_timeouts()
    {
        // Deterministic per seed; over 20 seeds: every election ends within four timeouts (a split vote costs a
        // second round) and the median within two (the earlier of two randomized timeouts in [E, 2E)).
        var ticksToNewLeader = new List<int>();
        for (ulong seed = 1; seed <= 20; seed++)
        {
            var c = NewCluster(seed);
            c.Elect(1);
            c.TickAll(3);
            c.Isolated.Add(1);
            var ticks = 0;
            while (ticks < 10 * ElectionTicks && c[2].Role != RaftRole.Leader && c[3].Role != RaftRole.Leader)
            {
                c[2].Tick();
                c[3].Tick();
                c.Stabilize();
                ticks++;
            }

            Assert.True(ticks <= 4 * ElectionTicks, $"seed {seed}: no new leader after {ticks} ticks");
            ticksToNewLeader.Add(ticks);
        }

        ticksToNewLeader.Sort();
        Assert.True(ticksToNewLeader[ticksToNewLeader.Count / 2] < 2 * ElectionTicks, $"median {ticksToNewLeader[ticksToNewLeader.Count / 2]} ticks: {string.Join(",", ticksToNewLeader)}");
        Assert.True(ticksToNewLeader[0] >= ElectionTicks, "nobody may campaign before its lease expired");
    }
}
