using HaMaster.Raft;
using HaMaster.Server.Raft;

namespace HaMaster.Server.Tests.Raft;

/// <summary>
/// The host's proposal bookkeeping, driven by hand with the core's answers and applied results: a proposal
/// completes with its own entry's typed result and fails, with an exception saying what to do, in every
/// other case (Raft thesis 6.3: a client retries with its session).
/// </summary>
public sealed class ProposalTrackerTests
{
    private readonly ProposalTracker<string> _tracker = new();

    private static TaskCompletionSource<string?> Completion() => new(TaskCreationOptions.RunContinuationsAsynchronously);

    private static ProposeResult Accepted(ulong index, ulong term) => new(ProposeStatus.Accepted, index, term, 0);

    [Fact]
    public async Task An_applied_entry_of_the_proposals_term_completes_it_with_the_typed_result()
    {
        var p = Completion();
        _tracker.Track(Accepted(7, 2), p);
        _tracker.Complete(new AppliedResult<string>(7, 2, "created"));

        Assert.Equal("created", await p.Task);
        Assert.Equal(0, _tracker.Count);
    }

    [Fact]
    public async Task A_proposal_replaced_at_its_index_by_a_newer_term_fails_with_ProposalLost()
    {
        var old = Completion();
        var current = Completion();
        _tracker.Track(Accepted(5, 1), old);
        _tracker.Track(Accepted(5, 2), current);

        var lost = await Assert.ThrowsAsync<ProposalLostException>(() => old.Task);
        Assert.Contains("replaced by an entry of term 2", lost.Message, StringComparison.Ordinal);
        Assert.False(current.Task.IsCompleted);
        _tracker.Complete(new AppliedResult<string>(5, 2, "mine"));
        Assert.Equal("mine", await current.Task);
    }

    [Fact]
    public async Task An_entry_committed_at_the_index_in_another_term_fails_the_proposal()
    {
        var p = Completion();
        _tracker.Track(Accepted(9, 3), p);
        _tracker.Complete(new AppliedResult<string>(9, 4, "someone else's"));

        var lost = await Assert.ThrowsAsync<ProposalLostException>(() => p.Task);
        Assert.Contains("committed in term 4, not 3", lost.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Proposals_at_applied_indexes_without_a_result_fail_and_later_ones_keep_waiting()
    {
        var at3 = Completion();
        var at4 = Completion();
        var at6 = Completion();
        _tracker.Track(Accepted(3, 1), at3);
        _tracker.Track(Accepted(4, 1), at4);
        _tracker.Track(Accepted(6, 1), at6);

        _tracker.Complete(new AppliedResult<string>(4, 1, "four"));
        _tracker.FailUnansweredUpTo(5);

        await Assert.ThrowsAsync<ProposalLostException>(() => at3.Task);
        Assert.Equal("four", await at4.Task);
        Assert.False(at6.Task.IsCompleted);
        Assert.Equal(1, _tracker.Count);
    }

    [Fact]
    public async Task A_snapshot_covering_a_proposal_makes_its_outcome_unknown()
    {
        var covered = Completion();
        var after = Completion();
        _tracker.Track(Accepted(10, 2), covered);
        _tracker.Track(Accepted(12, 2), after);
        _tracker.FailCoveredBySnapshot(11);

        var unknown = await Assert.ThrowsAsync<ProposalOutcomeUnknownException>(() => covered.Task);
        Assert.Contains("retry with the same session", unknown.Message, StringComparison.Ordinal);
        Assert.False(after.Task.IsCompleted);
    }

    [Theory]
    [InlineData(ProposeStatus.NotLeader, 3ul, typeof(NotLeaderException), "the leader is master 3")]
    [InlineData(ProposeStatus.NotLeader, 0ul, typeof(NotLeaderException), "election is under way")]
    [InlineData(ProposeStatus.TransferInProgress, 0ul, typeof(NotLeaderException), "being transferred")]
    [InlineData(ProposeStatus.UncommittedLimit, 0ul, typeof(ClusterPreconditionException), "too many uncommitted")]
    [InlineData(ProposeStatus.WouldLoseQuorum, 0ul, typeof(ClusterPreconditionException), "quorum")]
    [InlineData(ProposeStatus.LearnerNotCaughtUp, 0ul, typeof(ClusterPreconditionException), "caught up")]
    public async Task A_refused_proposal_fails_at_once_with_its_reason(ProposeStatus status, ulong hint, Type expected, string reason)
    {
        var p = Completion();
        _tracker.Track(new ProposeResult(status, 0, 0, hint), p);

        var e = await Assert.ThrowsAnyAsync<Exception>(() => p.Task);
        Assert.IsType(expected, e);
        Assert.Contains(reason, e.Message, StringComparison.Ordinal);
        if (e is NotLeaderException notLeader) Assert.Equal(hint, notLeader.LeaderId);
        if (e is ClusterPreconditionException precondition) Assert.Equal(status, precondition.Refusal);
        Assert.Equal(0, _tracker.Count);
    }

    [Fact]
    public async Task A_stopped_loop_fails_every_waiting_proposal_with_its_error()
    {
        var a = Completion();
        var b = Completion();
        _tracker.Track(Accepted(1, 1), a);
        _tracker.Track(Accepted(2, 1), b);
        var disk = new IOException("disk gone");
        _tracker.FailAll(disk);

        Assert.Same(disk, await Assert.ThrowsAsync<IOException>(() => a.Task));
        Assert.Same(disk, await Assert.ThrowsAsync<IOException>(() => b.Task));
        Assert.Equal(0, _tracker.Count);
    }
}
