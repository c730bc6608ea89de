using HaMaster.Raft;
using HaMaster.Raft.Tracking;

namespace HaMaster.Raft.Tests.Unit;

public sealed class TrackingTests
{
    [Fact]
    public void Inflights_full_by_count_or_bytes_and_freed_by_ack()
    {
        var f = new Inflights(3, 100);
        f.Add(5, 10);
        f.Add(7, 10);
        Assert.False(f.Full);
        f.Add(9, 10);
        Assert.True(f.Full); // count
        f.FreeLE(7);
        Assert.Equal(1, f.Count);
        Assert.Equal(10, f.Bytes);
        f.Add(12, 95);
        Assert.True(f.Full); // bytes
        f.FreeFirstOne();
        Assert.Equal(1, f.Count);
        Assert.Throws<InvalidOperationException>(() => { var g = new Inflights(1, 0); g.Add(1, 1); g.Add(2, 1); });
    }

    [Fact]
    public void Inflights_wraps_around_the_ring()
    {
        var f = new Inflights(2, 0);
        for (ulong i = 1; i <= 10; i++)
        {
            f.Add(i, 1);
            f.FreeLE(i - 1);
            Assert.Equal(i == 1 ? 1 : 1, f.Count);
        }
    }

    [Fact]
    public void Progress_probe_pauses_after_one_send_until_ack()
    {
        var p = new Progress(0, 5, false, 4, 0);
        Assert.False(p.IsPaused);
        p.OnEntriesSent(3, 7, 30);
        Assert.True(p.IsPaused);
        Assert.True(p.MaybeUpdate(7));
        Assert.False(p.IsPaused);
        p.BecomeReplicate();
        Assert.Equal(8UL, p.Next);
        for (var i = 0; i < 4; i++) p.OnEntriesSent(1, 8 + (ulong)i, 1);
        Assert.True(p.IsPaused); // window of 4 full
        Assert.Equal(12UL, p.Next);
    }

    [Fact]
    public void Progress_decrements_only_on_fresh_rejections()
    {
        var p = new Progress(0, 10, false, 4, 0);
        Assert.False(p.MaybeDecrTo(5, 3)); // not the index we probed: stale
        Assert.True(p.MaybeDecrTo(9, 3));
        Assert.Equal(4UL, p.Next); // jumped by the hint, not one by one
        p.MaybeUpdate(3);
        p.BecomeReplicate();
        p.OnEntriesSent(2, 5, 2);
        Assert.False(p.MaybeDecrTo(3, 0)); // rejection below match: stale
        Assert.True(p.MaybeDecrTo(4, 0));
        Assert.Equal(4UL, p.Next);
    }

    [Fact]
    public void Progress_snapshot_state_pauses_and_resumes_after_snapshot()
    {
        var p = new Progress(3, 4, false, 4, 0);
        p.BecomeSnapshot(20);
        Assert.True(p.IsPaused);
        Assert.Equal(ProgressState.Snapshot, p.State);
        p.BecomeProbe();
        Assert.Equal(21UL, p.Next);
    }

    [Theory]
    [InlineData(new ulong[] { 5 }, 5UL)]
    [InlineData(new ulong[] { 5, 3 }, 3UL)]
    [InlineData(new ulong[] { 5, 3, 1 }, 3UL)]
    [InlineData(new ulong[] { 1, 5, 3, 7 }, 3UL)]
    [InlineData(new ulong[] { 9, 1, 5, 3, 7 }, 5UL)]
    [InlineData(new ulong[] { 0, 0, 4 }, 0UL)]
    public void Majority_committed_index_is_held_by_a_quorum(ulong[] matches, ulong expected)
    {
        Assert.Equal(expected, MajorityQuorum.CommittedIndex(matches.ToArray()));
    }

    [Fact]
    public void Majority_of_empty_set_never_constrains()
    {
        Assert.Equal(ulong.MaxValue, MajorityQuorum.CommittedIndex(Span<ulong>.Empty));
        Assert.Equal(VoteResult.Won, MajorityQuorum.Tally(0, 0, 0));
    }

    [Theory]
    [InlineData(3, 2, 0, "Won")]
    [InlineData(3, 1, 1, "Pending")]
    [InlineData(3, 1, 2, "Lost")]
    [InlineData(4, 2, 1, "Pending")]
    [InlineData(4, 2, 2, "Lost")]
    [InlineData(5, 3, 2, "Won")]
    [InlineData(1, 1, 0, "Won")]
    public void Vote_tally(int voters, int yes, int no, string expected)
    {
        Assert.Equal(expected, MajorityQuorum.Tally(voters, yes, no).ToString());
    }
}
