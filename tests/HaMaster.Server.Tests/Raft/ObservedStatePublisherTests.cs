using HaMaster.Raft;
using HaMaster.Server.Raft;
using Microsoft.Extensions.Logging.Abstractions;

namespace HaMaster.Server.Tests.Raft;

/// <summary>What other threads see of the loop: replaced only on change, leadership changes recorded and announced.</summary>
public sealed class ObservedStatePublisherTests
{
    private readonly ObservedStatePublisher _published = new(RaftObservedState.Initial(1), NullLogger.Instance);

    [Fact]
    public void Progress_replaces_the_state_only_when_something_changed()
    {
        _published.Progress(2, 10, 12, 9, 0, isVoter: true, isLearner: false);
        var first = _published.Current;
        Assert.Equal((2ul, 10ul, 12ul, 9ul), (first.Term, first.CommitIndex, first.LastLogIndex, first.AppliedIndex));

        _published.Progress(2, 10, 12, 9, 0, isVoter: true, isLearner: false);
        Assert.Same(first, _published.Current);
        _published.Progress(2, 11, 12, 9, 0, isVoter: true, isLearner: false);
        Assert.NotSame(first, _published.Current);
    }

    [Fact]
    public async Task A_new_role_or_leader_is_recorded_and_announced_and_a_repeat_is_not()
    {
        var announced = new TaskCompletionSource<RaftObservedState>(TaskCreationOptions.RunContinuationsAsynchronously);
        _published.LeadershipChanged += s => announced.TrySetResult(s);

        Assert.True(_published.SoftState(new SoftState(2, RaftRole.Follower), term: 3));
        Assert.Equal(2ul, (await announced.Task.WaitAsync(TimeSpan.FromSeconds(30))).LeaderId);
        Assert.False(_published.SoftState(new SoftState(2, RaftRole.Follower), term: 3));
        Assert.Single(_published.History);
    }

    [Fact]
    public void The_history_keeps_the_last_twenty_changes_oldest_first()
    {
        for (ulong i = 1; i <= 25; i++) _published.SoftState(new SoftState(i, RaftRole.Follower), term: i);
        var history = _published.History;
        Assert.Equal(20, history.Count);
        Assert.Equal(6ul, history[0].LeaderId);
        Assert.Equal(25ul, history[^1].LeaderId);
    }
}
