using HaMaster.Raft;

namespace HaMaster.Raft.Tests.Paper;

public sealed class TransferAndSnapshotPaperTests
{
    [Fact]
    public void Thesis3_10_transfer_to_caught_up_voter_via_timeout_now()
    {
        var c = new TestCluster(3, o => o with { PreVote = true, CheckQuorum = true });
        c.Elect(1);
        c.TickAll();
        c[1].TransferLeadership(3);
        c.Stabilize();
        Assert.Equal(RaftRole.Leader, c[3].Role);
        Assert.Equal(3UL, c[1].LeaderId);
        Assert.Contains(c.Sent, m => m.Type == MessageType.TimeoutNow && m.To == 3);
    }

    [Fact]
    public void Thesis3_10_lagging_target_is_caught_up_first_and_proposals_pause()
    {
        var c = new TestCluster(3);
        c.Elect(1);
        c.Isolated.Add(3);
        for (var i = 0; i < 5; i++) c[1].Propose(TestCluster.Data($"p{i}"));
        c.Stabilize();
        c[1].TransferLeadership(3);
        Assert.Equal(ProposeStatus.TransferInProgress, c[1].Propose(TestCluster.Data("no")).Status);
        c.Stabilize();
        Assert.DoesNotContain(c.Sent, m => m.Type == MessageType.TimeoutNow);
        c.Isolated.Clear();
        c.TickAll();
        Assert.Equal(RaftRole.Leader, c[3].Role);
        Assert.Equal(5, c.AppliedData(1).Count);
    }

    [Fact]
    public void Thesis3_10_transfer_aborts_after_an_election_timeout()
    {
        var c = new TestCluster(3);
        c.Elect(1);
        c.Isolated.Add(3);
        c[1].Propose(TestCluster.Data("x"));
        c.Stabilize();
        c[1].TransferLeadership(3);
        for (var i = 0; i < 10; i++) c.TickAll();
        Assert.Equal(RaftRole.Leader, c[1].Role);
        Assert.True(c[1].Propose(TestCluster.Data("y")).IsAccepted);
    }

    [Fact]
    public void S7_follower_behind_compaction_is_sent_a_snapshot_and_restores_from_it()
    {
        var c = new TestCluster(3);
        c.Elect(1);
        c.Isolated.Add(3);
        for (var i = 0; i < 20; i++) c[1].Propose(TestCluster.Data($"s{i}"));
        c.TickAll();
        // The host snapshots its state machine at the applied index and compacts: the core learns it via storage.
        var applied = c[1].Status.Applied;
        c.Storages[1].CreateSnapshot(applied, c[1].Configuration);
        c.Storages[1].Compact(applied);
        c.Isolated.Clear();
        c.Sent.Clear();
        c.TickAll();
        var snapMsg = Assert.Single(c.Sent, m => m.Type == MessageType.Snapshot);
        Assert.Equal(applied, snapMsg.Snapshot!.Index);
        Assert.Equal(applied, c.Storages[3].Snapshot!.Index); // follower installed it (Ready.Snapshot)
        // The follower's acknowledgement of the snapshot index already resumed replication; the host's report is then a no-op.
        c[1].ReportSnapshot(3, success: true);
        c.TickAll(2);
        Assert.Equal(ProgressState.Replicate, c[1].Status.Progress.Single(p => p.Id == 3).State);
        c[1].Propose(TestCluster.Data("after"));
        c.TickAll(2);
        Assert.Equal(c[1].CommitIndex, c[3].CommitIndex);
        Assert.Equal("after", System.Text.Encoding.UTF8.GetString(c.AppliedData(3)[^1]));
    }

    [Fact]
    public void Restart_keeps_persisted_term_vote_and_log_and_reapplies_after_applied_index()
    {
        var c = new TestCluster(3);
        c.Elect(1);
        c[1].Propose(TestCluster.Data("a"));
        c.TickAll();
        var term = c[2].Term;
        c.Restart(2);
        Assert.Equal(term, c[2].Term);
        Assert.Equal(c[1].CommitIndex, c[2].CommitIndex);
        c.Flush(2);
        Assert.Equal("a", System.Text.Encoding.UTF8.GetString(c.AppliedData(2).Single()));
    }

    [Fact]
    public void S7_snapshot_matching_a_held_entry_acknowledges_only_the_commit_index()
    {
        // The follower holds (2, t1) — the snapshot point — followed by an entry of a stale term that the leader does
        // not have. Acknowledging its last index would let the leader count that entry as replicated.
        var storage = new MemoryRaftLogStorage(new ClusterConfig([1UL, 2, 3]));
        storage.Append([new Entry(1, 1, EntryType.Normal, default), new Entry(2, 1, EntryType.Normal, default), new Entry(3, 1, EntryType.Normal, new byte[] { 9 })]);
        storage.SetHardState(new HardState(1, 0, 1));
        var node = new RawNode(new RaftOptions { Id = 2, PreVote = false }, storage);
        node.Step(new Message { Type = MessageType.Snapshot, From = 1, To = 2, Term = 2, Snapshot = new SnapshotMetadata(2, 1, new ClusterConfig([1UL, 2, 3])) });
        var rd = node.GetReady();
        var ack = Assert.Single(rd.Messages);
        Assert.Equal(2UL, ack.Index);
        Assert.Null(rd.Snapshot); // nothing to install: the log already holds the snapshot point
        Assert.Equal(2UL, node.CommitIndex);
    }
}
