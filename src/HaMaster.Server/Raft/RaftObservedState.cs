using HaMaster.Raft;

namespace HaMaster.Server.Raft;

/// <summary>An immutable view of the Raft loop's state, published after every loop iteration for other threads.</summary>
internal sealed record RaftObservedState(
    ulong NodeId,
    RaftRole Role,
    ulong LeaderId,
    ulong Term,
    ulong CommitIndex,
    ulong LastLogIndex,
    ulong AppliedIndex,
    ulong SnapshotIndex,
    bool IsVoter,
    bool IsLearner,
    DateTimeOffset LeaderChangedAt)
{
    public static RaftObservedState Initial(ulong nodeId) =>
        new(nodeId, RaftRole.Follower, 0, 0, 0, 0, 0, 0, false, false, DateTimeOffset.UtcNow);

    public bool IsLeader => Role == RaftRole.Leader;
}

/// <summary>A change of role or leader as seen by one master.</summary>
internal sealed record LeadershipEvent(DateTimeOffset At, ulong LeaderId, ulong Term, string Role);
