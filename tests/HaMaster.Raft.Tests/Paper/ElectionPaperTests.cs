using HaMaster.Raft;

namespace HaMaster.Raft.Tests.Paper;

public sealed class ElectionPaperTests
{
    [Fact]
    public void Figure2_higher_term_converts_to_follower_and_stale_terms_are_ignored()
    {
        var c = new TestCluster(3);
        c.Elect(1);
        var leader = c[1];
        // Figure 2, all servers: "If RPC request or response contains term T > currentTerm: set currentTerm = T, convert to follower".
        leader.Step(new Message { Type = MessageType.AppendResponse, From = 2, To = 1, Term = 5 });
        Assert.Equal(RaftRole.Follower, leader.Role);
        Assert.Equal(5UL, leader.Term);
        // A message from an older term changes nothing.
        c[2].Step(new Message { Type = MessageType.Append, From = 3, To = 2, Term = 0, Index = 0 });
        Assert.Equal(1UL, c[2].Term);
    }

    [Fact]
    public void S5_2_candidate_with_majority_becomes_leader_and_others_follow()
    {
        var c = new TestCluster(5);
        c.Elect(3);
        Assert.All(c.Nodes.Where(n => n.Key != 3), n => Assert.Equal(3UL, n.Value.LeaderId));
        Assert.Equal(1UL, c[3].Term);
    }

    [Fact]
    public void S5_2_at_most_one_vote_per_term()
    {
        var c = new TestCluster(3);
        var voter = c[3];
        voter.Step(new Message { Type = MessageType.Vote, From = 1, To = 3, Term = 1 });
        voter.Step(new Message { Type = MessageType.Vote, From = 2, To = 3, Term = 1 });
        c.Flush(3);
        var responses = c.Pending.Where(m => m.Type == MessageType.VoteResponse).ToList();
        Assert.False(responses.Single(m => m.To == 1).Reject);
        Assert.True(responses.Single(m => m.To == 2).Reject);
        // The vote is durable before the response is sent (Ready contract): a restart remembers it.
        c.Restart(3);
        c.Pending.Clear();
        c[3].Step(new Message { Type = MessageType.Vote, From = 2, To = 3, Term = 1 });
        c.Flush(3);
        Assert.True(c.Pending.Single().Reject);
    }

    [Fact]
    public void S5_2_a_candidate_without_majority_does_not_win_and_times_out()
    {
        var c = new TestCluster(3);
        c.Isolated.Add(2);
        c.Isolated.Add(3);
        c[1].Campaign();
        c.Stabilize();
        Assert.Equal(RaftRole.Candidate, c[1].Role);
        // Randomized timeout in [ElectionTicks, 2*ElectionTicks): it campaigns again in a new term.
        for (var i = 0; i < 20; i++) c[1].Tick();
        Assert.Equal(2UL, c[1].Term);
    }

    [Fact]
    public void S5_2_randomized_timeouts_come_from_the_seeded_prng()
    {
        int TicksToCampaign(ulong seed)
        {
            var node = new RawNode(new RaftOptions { Id = 1, PreVote = false, RandomSeed = seed }, new MemoryRaftLogStorage(new ClusterConfig([1UL, 2])));
            for (var i = 1; i <= 40; i++)
            {
                node.Tick();
                if (node.Role == RaftRole.Candidate) return i;
            }
            return -1;
        }
        var timeouts = Enumerable.Range(0, 20).Select(s => TicksToCampaign((ulong)s)).ToList();
        Assert.All(timeouts, t => Assert.InRange(t, 10, 19));
        Assert.True(timeouts.Distinct().Count() > 3, "timeouts should be spread");
        Assert.Equal(TicksToCampaign(7), TicksToCampaign(7)); // deterministic replay
    }

    [Fact]
    public void S5_4_1_vote_denied_to_candidate_with_less_up_to_date_log()
    {
        var c = new TestCluster(3);
        c.Elect(1);
        c.Isolated.Add(3);
        c[1].Propose(TestCluster.Data("a"));
        c.Stabilize();
        c.Isolated.Clear();
        // Node 3 missed entry 2; its candidacy in a higher term must fail at nodes 1 and 2.
        c[3].Campaign();
        c.Stabilize();
        Assert.NotEqual(RaftRole.Leader, c[3].Role);
        Assert.True(c.Sent.Where(m => m.Type == MessageType.VoteResponse && m.To == 3).All(m => m.Reject));
    }

    [Fact]
    public void S9_6_prevote_keeps_a_rejoining_partitioned_node_from_disrupting_the_leader()
    {
        var c = new TestCluster(3, o => o with { PreVote = true, CheckQuorum = true });
        c.Elect(1);
        var term = c[1].Term;
        c.Isolated.Add(3);
        for (var i = 0; i < 50; i++) c.TickAll();
        // Isolated, node 3 keeps pre-voting but never increments its term.
        Assert.Equal(term, c[3].Term);
        Assert.Equal(RaftRole.PreCandidate, c[3].Role);
        c.Isolated.Clear();
        c.TickAll(3);
        Assert.Equal(RaftRole.Leader, c[1].Role);
        Assert.Equal(term, c[1].Term);
        Assert.Equal(1UL, c[3].LeaderId);
    }

    [Fact]
    public void S6_2_check_quorum_leader_steps_down_without_a_quorum()
    {
        var c = new TestCluster(3, o => o with { CheckQuorum = true });
        c.Elect(1);
        c.Isolated.Add(1);
        for (var i = 0; i < 25 && c[1].Role == RaftRole.Leader; i++) c[1].Tick();
        Assert.Equal(RaftRole.Follower, c[1].Role);
    }

    [Fact]
    public void S4_2_3_followers_hearing_a_leader_ignore_disruptive_vote_requests()
    {
        var c = new TestCluster(3, o => o with { CheckQuorum = true });
        c.Elect(1);
        c[2].Step(new Message { Type = MessageType.Vote, From = 3, To = 2, Term = 9, Index = 99, LogTerm = 9 });
        Assert.Equal(1UL, c[2].Term);
        Assert.Equal(1UL, c[2].LeaderId);
    }
}
