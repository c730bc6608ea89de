using HaMaster.Raft;

namespace HaMaster.Raft.Tests.Paper;

public sealed class FlowControlTests
{
    [Fact]
    public void Proposals_are_batched_into_one_append_per_follower_per_ready()
    {
        var c = new TestCluster(3);
        c.Elect(1);
        c.TickAll();
        c.Sent.Clear();
        for (var i = 0; i < 100; i++) c[1].Propose(TestCluster.Data($"b{i}"));
        c.Flush(1);
        var appends = c.Pending.Where(m => m.Type == MessageType.Append).ToList();
        Assert.Equal(2, appends.Count);
        Assert.All(appends, m => Assert.Equal(100, m.Entries.Count));
    }

    [Fact]
    public void Replicate_state_pipelines_up_to_max_inflight_then_pauses()
    {
        var c = new TestCluster(3, o => o with { MaxInflightMessages = 3 });
        c.Elect(1);
        c.TickAll();
        Assert.Equal(ProgressState.Replicate, c[1].Status.Progress.Single(p => p.Id == 2).State);
        c.Drop = m => m.To == 2;
        c.Sent.Clear();
        for (var i = 0; i < 10; i++)
        {
            c[1].Propose(TestCluster.Data($"f{i}"));
            c.Stabilize(); // one Ready per proposal: one append each while the window allows
        }
        Assert.Equal(3, c.Sent.Count(m => m.Type == MessageType.Append && m.To == 2 && m.Entries.Count > 0));
        Assert.Equal(3, c[1].Status.Progress.Single(p => p.Id == 2).Inflight);
    }

    [Fact]
    public void Max_size_per_message_splits_appends()
    {
        var c = new TestCluster(3, o => o with { MaxSizePerMessage = 10 });
        c.Elect(1);
        c.TickAll();
        c.Sent.Clear();
        for (var i = 0; i < 10; i++) c[1].Propose(new byte[5]);
        c.Stabilize();
        Assert.All(c.Sent.Where(m => m.Type == MessageType.Append), m => Assert.True(m.Entries.Sum(e => e.Data.Length) <= 10));
        c.TickAll();
        Assert.Equal(c[1].CommitIndex, c[2].CommitIndex);
    }

    [Fact]
    public void Uncommitted_bound_refuses_proposals_as_a_value()
    {
        var c = new TestCluster(3, o => o with { MaxUncommittedEntriesBytes = 100 });
        c.Elect(1);
        c.TickAll();
        c.Isolated.Add(2);
        c.Isolated.Add(3);
        Assert.True(c[1].Propose(new byte[60]).IsAccepted);
        Assert.True(c[1].Propose(new byte[40]).IsAccepted);
        Assert.Equal(ProposeStatus.UncommittedLimit, c[1].Propose(new byte[1]).Status);
        c.Isolated.Clear();
        c.TickAll(2);
        Assert.True(c[1].Propose(new byte[60]).IsAccepted);
    }

    [Fact]
    public void Unknown_or_misaddressed_messages_are_ignored()
    {
        var c = new TestCluster(3);
        c.Elect(1);
        c[2].Step(new Message { Type = MessageType.AppendResponse, From = 9, To = 2, Term = 1 });
        c[2].Step(new Message { Type = MessageType.Append, From = 1, To = 3, Term = 1 });
        c[1].Step(new Message { Type = MessageType.AppendResponse, From = 9, To = 1, Term = 1, Index = 100 });
        c[1].Step(new Message { Type = MessageType.HeartbeatResponse, From = 9, To = 1, Term = 1 });
        c.TickAll();
        Assert.Equal(RaftRole.Leader, c[1].Role);
    }
}
