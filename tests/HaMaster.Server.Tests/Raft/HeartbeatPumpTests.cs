using HaMaster.Raft;
using HaMaster.Server.Raft;

namespace HaMaster.Server.Tests.Raft;

/// <summary>The heartbeat pump's plan and send decisions, driven by hand with a recording transport.</summary>
public sealed class HeartbeatPumpTests : IRaftTransport
{
    private static readonly TimeSpan Interval = TimeSpan.FromMilliseconds(100);
    private static readonly TimeSpan Coverage = TimeSpan.FromMilliseconds(2000);
    private static readonly ClusterConfig Three = new([1, 2, 3]);
    private readonly List<Message> _sent = [];
    private readonly HeartbeatPump _pump;
    private RaftObservedState _observed = RaftObservedState.Initial(1) with { Role = RaftRole.Leader, LeaderId = 1, Term = 4 };

    public HeartbeatPumpTests()
    {
        _pump = new HeartbeatPump(1, Interval, Coverage, () => _observed, () => this);
    }

    void IRaftTransport.Send(IReadOnlyList<Message> messages) => _sent.AddRange(messages);

    [Fact]
    public void A_leader_plans_one_heartbeat_of_its_term_to_every_other_member()
    {
        _pump.Refresh(RaftRole.Leader, 4, Three);
        var plan = _pump.Current!;
        Assert.Equal([2ul, 3ul], plan.Heartbeats.Select(m => m.To));
        Assert.All(plan.Heartbeats, m => Assert.Equal((MessageType.Heartbeat, 1ul, 4ul, 0ul), (m.Type, m.From, m.Term, m.Commit)));

        _pump.Refresh(RaftRole.Leader, 4, Three);
        Assert.Same(plan, _pump.Current); // unchanged term and membership: not rebuilt
        _pump.Refresh(RaftRole.Leader, 5, Three);
        Assert.NotSame(plan, _pump.Current);
        _pump.Refresh(RaftRole.Follower, 5, Three);
        Assert.Null(_pump.Current);
    }

    [Fact]
    public void A_leader_that_steps_down_stops_pumping_at_once()
    {
        _pump.Refresh(RaftRole.Leader, 4, Three);
        _pump.StopIfNotLeader(RaftRole.Leader);
        Assert.NotNull(_pump.Current);
        _pump.StopIfNotLeader(RaftRole.Follower);
        Assert.Null(_pump.Current);
    }

    [Theory]
    [InlineData(50, 500, false)] // the iteration is short: the loop heartbeats itself
    [InlineData(150, 150, true)]
    [InlineData(150, 50, false)] // sent one an interval ago
    [InlineData(2500, 500, false)] // stuck past the coverage: let the leader be replaced
    public void Heartbeats_are_due_only_during_a_long_but_bounded_iteration(int busyMs, int sinceLastMs, bool due) =>
        Assert.Equal(due, _pump.Due(TimeSpan.FromMilliseconds(busyMs), TimeSpan.FromMilliseconds(sinceLastMs)));

    [Fact]
    public void The_pump_sends_only_while_this_master_leads_in_the_plans_term()
    {
        Assert.False(_pump.TrySend()); // no plan yet
        _pump.Refresh(RaftRole.Leader, 4, Three);
        Assert.True(_pump.TrySend());
        Assert.Equal(2, _sent.Count);
        Assert.Equal(1, _pump.PumpedRounds);

        _observed = _observed with { Term = 5 }; // a newer term was seen: the plan is stale
        Assert.False(_pump.TrySend());
        _observed = _observed with { Term = 4, Role = RaftRole.Follower };
        Assert.False(_pump.TrySend());
        Assert.Equal(2, _sent.Count);
    }
}
