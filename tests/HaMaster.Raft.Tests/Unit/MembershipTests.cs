using HaMaster.Raft;

namespace HaMaster.Raft.Tests.Unit;

public sealed class MembershipTests
{
    [Fact]
    public void ClusterConfig_has_value_semantics_and_round_trips()
    {
        var a = new ClusterConfig([3UL, 1, 2, 2], [5UL]);
        var b = new ClusterConfig([1UL, 2, 3], [5UL]);
        Assert.Equal(a, b);
        Assert.True(a == b);
        Assert.Equal(a.GetHashCode(), b.GetHashCode());
        Assert.Equal([1UL, 2, 3], a.Voters);
        Assert.Equal(2, a.Quorum);
        Assert.Equal(a, ClusterConfig.FromBytes(a.ToBytes()));
        Assert.NotEqual(a, new ClusterConfig([1UL, 2, 3]));
        Assert.Throws<ArgumentException>(() => new ClusterConfig([1UL], [1UL]));
        Assert.Throws<FormatException>(() => ClusterConfig.FromBytes([9, 9]));
    }

    [Fact]
    public void Apply_changes()
    {
        var c = new ClusterConfig([1UL, 2, 3]);
        var withLearner = c.Apply(new ConfigChange(ConfigChangeKind.AddLearner, 4));
        Assert.True(withLearner.IsLearner(4));
        var promoted = withLearner.Apply(new ConfigChange(ConfigChangeKind.PromoteLearner, 4));
        Assert.True(promoted.IsVoter(4));
        Assert.Equal(3, promoted.Quorum);
        var removed = promoted.Apply(new ConfigChange(ConfigChangeKind.RemoveNode, 1));
        Assert.Equal([2UL, 3, 4], removed.Voters);
        Assert.Throws<InvalidOperationException>(() => c.Apply(new ConfigChange(ConfigChangeKind.PromoteLearner, 9)));
    }

    [Fact]
    public void ConfigTransition_round_trips()
    {
        var t = new ConfigTransition(new ConfigChange(ConfigChangeKind.AddLearner, 7), new ClusterConfig([1UL, 2], [7UL]));
        var back = ConfigTransition.Decode(t.Encode());
        Assert.Equal(t.Change, back.Change);
        Assert.Equal(t.Result, back.Result);
        Assert.Throws<FormatException>(() => ConfigTransition.Decode(new byte[] { 99, 0, 0, 0, 0, 0, 0, 0, 0 }));
    }

    [Fact]
    public void Single_server_changes_keep_majorities_intersecting()
    {
        // The safety argument for one-at-a-time changes (thesis §4.1): any majority of C and of C±1 voter overlap.
        var c = new ClusterConfig([1UL, 2, 3, 4]);
        foreach (var next in new[] { c.Apply(new ConfigChange(ConfigChangeKind.AddVoter, 5)), c.Apply(new ConfigChange(ConfigChangeKind.RemoveNode, 4)) })
        {
            foreach (var q1 in Subsets(c.Voters).Where(s => s.Count >= c.Quorum))
            foreach (var q2 in Subsets(next.Voters).Where(s => s.Count >= next.Quorum))
                Assert.NotEmpty(q1.Intersect(q2));
        }
    }

    private static IEnumerable<List<ulong>> Subsets(IReadOnlyList<ulong> items)
    {
        for (var mask = 0; mask < 1 << items.Count; mask++)
            yield return items.Where((_, i) => (mask & (1 << i)) != 0).ToList();
    }

    [Fact]
    public void Options_validate_themselves()
    {
        Assert.Throws<ArgumentException>(() => new RaftOptions().Validate());
        Assert.Throws<ArgumentException>(() => new RaftOptions { Id = 1, ElectionTicks = 2, HeartbeatTicks = 2 }.Validate());
        Assert.Throws<ArgumentException>(() => new RaftOptions { Id = 1, LeaseReads = true, CheckQuorum = false }.Validate());
        Assert.Throws<ArgumentException>(() => new RaftOptions { Id = 1, MaxClockDriftTicks = 10 }.Validate());
        Assert.Throws<ArgumentException>(() => new RawNode(new RaftOptions { Id = 0 }, new MemoryRaftLogStorage(ClusterConfig.Empty)));
        var ok = new RaftOptions { Id = 1 }.Validate();
        Assert.Equal(10, ok.ElectionTicks);
        Assert.True(ok.PreVote && ok.CheckQuorum);
    }
}
