using HaMaster.Raft;

namespace HaMaster.Raft.Tests.Paper;

/// <summary>Thesis chapter 4: single-server membership changes with learners.</summary>
public sealed class MembershipPaperTests
{
    private static TestCluster ClusterWithSpare(out ulong spare)
    {
        var c = new TestCluster(3);
        spare = 4;
        c.Add(spare, ClusterConfig.Empty); // a new server starts with no configuration and waits to be contacted
        c.Elect(1);
        c.TickAll();
        return c;
    }

    [Fact]
    public void Thesis4_2_1_learner_catches_up_without_voting_then_is_promoted()
    {
        var c = ClusterWithSpare(out var spare);
        for (var i = 0; i < 5; i++) c[1].Propose(TestCluster.Data($"x{i}"));
        c.Stabilize();
        Assert.True(c[1].ProposeConfigChange(new ConfigChange(ConfigChangeKind.AddLearner, spare)).IsAccepted);
        c.TickAll(3);
        Assert.Equal(RaftRole.Learner, c[spare].Role);
        Assert.Equal(c[1].CommitIndex, c[spare].CommitIndex);
        Assert.Equal(c.AppliedData(1).Count, c.AppliedData(spare).Count);
        // Learners never campaign.
        for (var i = 0; i < 40; i++) c[spare].Tick();
        Assert.Equal(RaftRole.Learner, c[spare].Role);
        c.Stabilize();
        Assert.True(c[1].ProposeConfigChange(new ConfigChange(ConfigChangeKind.PromoteLearner, spare)).IsAccepted);
        c.TickAll(2);
        Assert.True(c[spare].Configuration.IsVoter(spare));
        Assert.Equal(3, c[1].Configuration.Quorum);
    }

    [Fact]
    public void Thesis4_1_only_one_change_in_flight_and_leader_must_commit_in_its_term_first()
    {
        var c = new TestCluster(3);
        c.Add(4, ClusterConfig.Empty);
        c.Add(5, ClusterConfig.Empty);
        c.Drop = m => m.Type == MessageType.Append;
        c.Elect(1);
        // The no-op of term 1 is not committed yet: a change now could race an uncommitted change of an older leader.
        Assert.Equal(ProposeStatus.LeaderNotReady, c[1].ProposeConfigChange(new ConfigChange(ConfigChangeKind.AddLearner, 4)).Status);
        c.Drop = null;
        c.TickAll();
        Assert.True(c[1].ProposeConfigChange(new ConfigChange(ConfigChangeKind.AddLearner, 4)).IsAccepted);
        Assert.Equal(ProposeStatus.ConfigChangeInFlight, c[1].ProposeConfigChange(new ConfigChange(ConfigChangeKind.AddLearner, 5)).Status);
        c.TickAll(2);
        Assert.True(c[1].ProposeConfigChange(new ConfigChange(ConfigChangeKind.AddLearner, 5)).IsAccepted);
    }

    [Fact]
    public void Thesis4_changes_that_would_lose_quorum_or_make_no_sense_are_refused_with_a_reason()
    {
        var c = new TestCluster(3);
        c.Add(4, ClusterConfig.Empty);
        c.Elect(1);
        c.TickAll();
        Assert.Equal(ProposeStatus.AlreadyMember, c[1].ProposeConfigChange(new ConfigChange(ConfigChangeKind.AddVoter, 2)).Status);
        Assert.Equal(ProposeStatus.UnknownMember, c[1].ProposeConfigChange(new ConfigChange(ConfigChangeKind.RemoveNode, 9)).Status);
        Assert.Equal(ProposeStatus.UnknownMember, c[1].ProposeConfigChange(new ConfigChange(ConfigChangeKind.PromoteLearner, 2)).Status);
        // With node 3 down, adding an empty voter would need 3 of 4 caught-up voters: refused.
        c.Isolated.Add(3);
        c.Isolated.Add(4);
        for (var i = 0; i < 12; i++) c.TickAll();
        Assert.Equal(ProposeStatus.WouldLoseQuorum, c[1].ProposeConfigChange(new ConfigChange(ConfigChangeKind.AddVoter, 4)).Status);
        // Removing live voter 2 would leave {1,3} with 3 unreachable: refused.
        Assert.Equal(ProposeStatus.WouldLoseQuorum, c[1].ProposeConfigChange(new ConfigChange(ConfigChangeKind.RemoveNode, 2)).Status);
        // Removing the dead voter is fine.
        Assert.True(c[1].ProposeConfigChange(new ConfigChange(ConfigChangeKind.RemoveNode, 3)).IsAccepted);
    }

    [Fact]
    public void Thesis4_2_2_removed_leader_steps_down_cleanly_and_a_remaining_voter_takes_over()
    {
        var c = new TestCluster(3);
        c.Elect(1);
        c.TickAll();
        Assert.True(c[1].ProposeConfigChange(new ConfigChange(ConfigChangeKind.RemoveNode, 1)).IsAccepted);
        c.Stabilize();
        c.TickAll(3);
        Assert.NotEqual(RaftRole.Leader, c[1].Role);
        var newLeader = c.Nodes.Values.Single(n => n.Role == RaftRole.Leader);
        Assert.NotEqual(1UL, newLeader.Id);
        Assert.False(newLeader.Configuration.Contains(1));
        Assert.True(newLeader.Propose(TestCluster.Data("after")).IsAccepted);
        c.TickAll(2);
        Assert.Contains(c.AppliedData(newLeader.Id), d => System.Text.Encoding.UTF8.GetString(d) == "after");
        // The removed node does not campaign.
        var term = newLeader.Term;
        for (var i = 0; i < 40; i++) c.TickAll();
        Assert.Equal(term, newLeader.Term);
    }

    [Fact]
    public void Thesis4_1_config_takes_effect_on_append_and_reverts_on_truncation()
    {
        var c = new TestCluster(3);
        c.Add(4, ClusterConfig.Empty);
        c.Elect(1);
        c.TickAll();
        // The change reaches node 2 only, uncommitted.
        c.Drop = m => m.To != 2;
        Assert.True(c[1].ProposeConfigChange(new ConfigChange(ConfigChangeKind.AddLearner, 4)).IsAccepted);
        c.Stabilize();
        Assert.True(c[2].Configuration.IsLearner(4));
        c.Drop = null;
        // A leader of a later term (node 3, which never saw the change) overwrites the uncommitted config entry.
        var last = c[2].Status.LastIndex;
        c[2].Step(new Message
        {
            Type = MessageType.Append, From = 3, To = 2, Term = 5, Index = last - 1, LogTerm = 1,
            Entries = [new Entry(last, 5, EntryType.Normal, ReadOnlyMemory<byte>.Empty)], Commit = 0,
        });
        Assert.False(c[2].Configuration.Contains(4));
    }
}
