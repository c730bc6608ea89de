using HaMaster.Raft;

namespace HaMaster.Raft.Tests.Paper;

/// <summary>Thesis §6.4: linearizable reads without writing to the log.</summary>
public sealed class ReadIndexPaperTests
{
    private static byte[] Ctx(int i) => BitConverter.GetBytes(i);

    [Fact]
    public void S6_4_leader_read_index_needs_a_heartbeat_quorum()
    {
        var c = new TestCluster(3);
        c.Elect(1);
        c.TickAll();
        c.Isolated.Add(2);
        c.Isolated.Add(3);
        c[1].ReadIndex(Ctx(1));
        c.Stabilize();
        Assert.Empty(c.Reads[1]); // no quorum confirmed leadership: no answer
        c.Isolated.Clear();
        c.TickAll(); // next heartbeat round is acknowledged
        var rs = Assert.Single(c.Reads[1]);
        Assert.Equal(c[1].CommitIndex, rs.Index);
        Assert.Equal(Ctx(1), rs.RequestContext.ToArray());
    }

    [Fact]
    public void S6_4_many_reads_share_one_heartbeat_round()
    {
        var c = new TestCluster(5);
        c.Elect(1);
        c.TickAll();
        c.Sent.Clear();
        for (var i = 0; i < 100; i++) c[1].ReadIndex(Ctx(i));
        c.Stabilize();
        Assert.Equal(100, c.Reads[1].Count);
        // One round (4 heartbeats) for the first read, at most one more for all the others.
        Assert.InRange(c.Sent.Count(m => m.Type == MessageType.Heartbeat), 4, 8);
    }

    [Fact]
    public void S6_4_follower_read_is_forwarded_to_the_leader()
    {
        var c = new TestCluster(3);
        c.Elect(1);
        c[1].Propose(TestCluster.Data("w"));
        c.TickAll();
        c[3].ReadIndex(Ctx(7));
        c.Stabilize();
        var rs = Assert.Single(c.Reads[3]);
        Assert.Equal(c[1].CommitIndex, rs.Index);
        Assert.Contains(c.Sent, m => m.Type == MessageType.ReadIndex && m.From == 3 && m.To == 1);
    }

    [Fact]
    public void S6_4_new_leader_serves_reads_only_after_committing_an_entry_of_its_term()
    {
        var c = new TestCluster(3);
        c.Drop = m => m.Type == MessageType.Append;
        c.Elect(1);
        c[1].ReadIndex(Ctx(1));
        c.Stabilize();
        Assert.Empty(c.Reads[1]);
        c.Drop = null;
        c.TickAll(2);
        var rs = Assert.Single(c.Reads[1]);
        Assert.Equal(c[1].Term, c.Storages[1].Entries(rs.Index, rs.Index + 1, long.MaxValue)[0].Term);
    }

    [Fact]
    public void S6_4_reads_without_a_leader_or_after_losing_leadership_are_dropped_visibly()
    {
        var c = new TestCluster(3);
        c[2].ReadIndex(Ctx(1)); // no leader known
        c.Flush(2);
        Assert.Single(c.DroppedReads[2]);
        c.Elect(1);
        c.TickAll();
        c.Isolated.Add(1);
        c[1].ReadIndex(Ctx(2));
        c.Flush(1);
        c[1].Step(new Message { Type = MessageType.AppendResponse, From = 2, To = 1, Term = 9 }); // deposed
        c.Flush(1);
        Assert.Equal(Ctx(2), Assert.Single(c.DroppedReads[1]).ToArray());
    }

    [Fact]
    public void S6_4_1_lease_read_is_served_without_a_round_while_the_lease_holds()
    {
        var c = new TestCluster(3, o => o with { CheckQuorum = true, LeaseReads = true });
        for (var i = 0; i < 10; i++) foreach (var n in c.Nodes.Values) n.Tick(); // start-up quiet period
        c.Elect(1);
        c.TickAll(2);
        c.Sent.Clear();
        c.Isolated.Add(2);
        c.Isolated.Add(3);
        c[1].ReadIndex(Ctx(1));
        c.Flush(1);
        Assert.Single(c.Reads[1]); // answered locally from the lease
        // After the lease (ElectionTicks - drift) without acknowledgements, reads need a round again.
        for (var i = 0; i < 8; i++) c[1].Tick();
        c.Flush(1);
        c[1].ReadIndex(Ctx(2));
        c.Flush(1);
        Assert.Single(c.Reads[1]);
    }
}
