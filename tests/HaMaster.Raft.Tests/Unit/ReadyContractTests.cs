using HaMaster.Raft;

namespace HaMaster.Raft.Tests.Unit;

public sealed class ReadyContractTests
{
    [Fact]
    public void Vote_is_in_the_same_ready_as_its_response_so_it_is_durable_before_sending()
    {
        var storage = new MemoryRaftLogStorage(new ClusterConfig([1UL, 2, 3]));
        var node = new RawNode(new RaftOptions { Id = 2, PreVote = false }, storage);
        node.Step(new Message { Type = MessageType.Vote, From = 1, To = 2, Term = 1 });
        var rd = node.GetReady();
        Assert.Equal(new HardState(1, 1, 0), rd.HardState);
        Assert.True(rd.MustSync);
        Assert.Single(rd.Messages);
        Assert.Throws<InvalidOperationException>(() => node.GetReady()); // one Ready at a time
        node.Advance(rd);
        Assert.False(node.HasReady());
    }

    [Fact]
    public void Crash_before_persisting_a_ready_forgets_it_and_the_node_recovers_from_storage()
    {
        var storage = new MemoryRaftLogStorage(new ClusterConfig([1UL, 2, 3]));
        var node = new RawNode(new RaftOptions { Id = 2, PreVote = false }, storage);
        node.Step(new Message { Type = MessageType.Vote, From = 1, To = 2, Term = 1 });
        _ = node.GetReady(); // crash: nothing persisted, response never sent
        var restarted = new RawNode(new RaftOptions { Id = 2, PreVote = false }, storage);
        Assert.Equal(0UL, restarted.Term);
        // Having acknowledged nothing, it may now vote for another candidate.
        restarted.Step(new Message { Type = MessageType.Vote, From = 3, To = 2, Term = 1 });
        var rd = restarted.GetReady();
        Assert.False(rd.Messages.Single().Reject);
    }

    [Fact]
    public void A_leaders_appends_may_leave_before_its_fsync_but_a_followers_acknowledgement_may_not()
    {
        var c = new TestCluster(3);
        c.Elect(1);
        c.Stabilize();
        Assert.Equal(ProposeStatus.Accepted, c[1].Propose(TestCluster.Data("x")).Status);
        var rd = c[1].GetReady();
        Assert.Single(rd.EntriesToPersist);
        Assert.Equal(2, rd.MessagesBeforePersist.Count);
        Assert.All(rd.MessagesBeforePersist, m => Assert.Equal(MessageType.Append, m.Type));
        Assert.Empty(rd.Messages);
        Assert.Empty(rd.CommittedEntries);
        c.Storages[1].Append(rd.EntriesToPersist);
        c[1].Advance(rd);

        // The follower's acknowledgement is only in the after-persist list.
        c[2].Step(rd.MessagesBeforePersist.Single(m => m.To == 2));
        var followerReady = c[2].GetReady();
        Assert.Empty(followerReady.MessagesBeforePersist);
        Assert.Equal(MessageType.AppendResponse, Assert.Single(followerReady.Messages).Type);
    }

    [Fact]
    public void A_single_voter_commits_its_entry_only_after_the_host_made_it_durable()
    {
        var c = new TestCluster(1);
        c.Elect(1);
        c.Stabilize();
        var commitBefore = c[1].CommitIndex;
        var index = c[1].Propose(TestCluster.Data("x")).Index;
        var rd = c[1].GetReady();
        Assert.Single(rd.EntriesToPersist);
        Assert.Empty(rd.CommittedEntries); // not durable yet: not committed
        Assert.Equal(commitBefore, c[1].CommitIndex);
        c.Storages[1].Append(rd.EntriesToPersist);
        c[1].Advance(rd);
        Assert.Equal(index, c[1].CommitIndex);
        var next = c[1].GetReady();
        Assert.Equal(index, Assert.Single(next.CommittedEntries).Index);
    }

    [Fact]
    public void Nothing_leaves_early_from_a_ready_that_changes_the_term()
    {
        var storage = new MemoryRaftLogStorage(new ClusterConfig([1UL, 2, 3]));
        var node = new RawNode(new RaftOptions { Id = 1, PreVote = false }, storage);
        node.Campaign();
        // Both grants arrive before the host took the candidate's Ready: the term, the vote and
        // the new leader's first appends are all in one Ready.
        node.Step(new Message { Type = MessageType.VoteResponse, From = 2, To = 1, Term = 1 });
        node.Step(new Message { Type = MessageType.VoteResponse, From = 3, To = 1, Term = 1 });
        Assert.Equal(RaftRole.Leader, node.Role);
        var rd = node.GetReady();
        Assert.Equal(1UL, rd.HardState!.Value.Term);
        Assert.Empty(rd.MessagesBeforePersist);
        Assert.Contains(rd.Messages, m => m.Type == MessageType.Append);
    }

    [Fact]
    public void Report_unreachable_moves_a_replicating_follower_to_probe()
    {
        var c = new TestCluster(3);
        c.Elect(1);
        c.TickAll();
        Assert.Equal(ProgressState.Replicate, c[1].Status.Progress.Single(p => p.Id == 2).State);
        c[1].ReportUnreachable(2);
        Assert.Equal(ProgressState.Probe, c[1].Status.Progress.Single(p => p.Id == 2).State);
    }

    [Fact]
    public void Status_reports_role_progress_and_config()
    {
        var c = new TestCluster(3, learners: 1);
        c.Elect(1);
        c.TickAll();
        var s = c[1].Status;
        Assert.Equal(RaftRole.Leader, s.Role);
        Assert.Equal(4, s.Progress.Count);
        Assert.True(s.Progress.Single(p => p.Id == 4).IsLearner);
        Assert.Equal(RaftRole.Learner, c[4].Role);
        Assert.Equal(s.Commit, s.Progress.Single(p => p.Id == 2).Match);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Lease_reads_stop_once_a_timeout_now_was_sent(bool transfer)
    {
        var c = new TestCluster(3, o => o with { CheckQuorum = true, LeaseReads = true });
        for (var i = 0; i < 10; i++) foreach (var n in c.Nodes.Values) n.Tick();
        c.Elect(1);
        c.TickAll(2);
        c.Drop = m => m.Type == MessageType.TimeoutNow; // sent, but delayed indefinitely
        if (transfer) c[1].TransferLeadership(2);
        c.TickAll(10); // heartbeats keep being acknowledged; the transfer is abandoned after an election timeout
        Assert.Equal(RaftRole.Leader, c[1].Role);
        Assert.True(c[1].Propose(TestCluster.Data("ok")).IsAccepted); // transfer no longer in progress
        c[1].ReadIndex(BitConverter.GetBytes(1));
        c.Flush(1); // no delivery: only a lease can answer now
        // The delayed TimeoutNow could still elect node 2 past the followers' leases: no lease reads this term.
        Assert.Equal(transfer ? 0 : 1, c.Reads[1].Count);
    }
}
