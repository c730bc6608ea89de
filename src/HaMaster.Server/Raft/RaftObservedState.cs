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

    /// <summary>This state with the loop's progress: the same instance when nothing changed, so a quiet iteration allocates nothing.</summary>
    public RaftObservedState WithProgress(ulong term, ulong commitIndex, ulong lastLogIndex, ulong appliedIndex, ulong snapshotIndex, bool isVoter, bool isLearner) =>
        Term == term && CommitIndex == commitIndex && LastLogIndex == lastLogIndex && AppliedIndex == appliedIndex
            && SnapshotIndex == snapshotIndex && IsVoter == isVoter && IsLearner == isLearner
            ? this
            : this with
            {
                Term = term,
                CommitIndex = commitIndex,
                LastLogIndex = lastLogIndex,
                AppliedIndex = appliedIndex,
                SnapshotIndex = snapshotIndex,
                IsVoter = isVoter,
                IsLearner = isLearner,
            };
}

/// <summary>A change of role or leader as seen by one master.</summary>
internal sealed record LeadershipEvent(DateTimeOffset At, ulong LeaderId, ulong Term, string Role);

