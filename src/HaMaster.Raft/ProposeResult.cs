namespace HaMaster.Raft;

/// <summary>Outcome of a proposal. Every expected failure is a value, never an exception.</summary>
public enum ProposeStatus : byte
{
    /// <summary>Appended to the leader's log at <see cref="ProposeResult.Index"/>/<see cref="ProposeResult.Term"/>
    /// (not yet committed: it commits iff an entry with this index and term is applied).</summary>
    Accepted,
    /// <summary>This node is not the leader; <see cref="ProposeResult.LeaderHint"/> is the known leader or 0.</summary>
    NotLeader,
    /// <summary>Leadership is being transferred; retry on the new leader.</summary>
    TransferInProgress,
    /// <summary>The uncommitted-bytes bound is reached; retry later.</summary>
    UncommittedLimit,
    /// <summary>Config change: another change is not yet committed.</summary>
    ConfigChangeInFlight,
    /// <summary>Config change: the leader has not yet committed an entry of its own term (thesis §4.1 fix); retry shortly.</summary>
    LeaderNotReady,
    /// <summary>Config change: the change would leave the cluster without a live, caught-up quorum, or without voters.</summary>
    WouldLoseQuorum,
    /// <summary>Config change: the node is already a member in that role.</summary>
    AlreadyMember,
    /// <summary>Config change: the node is not a member (remove) or not a learner (promote).</summary>
    UnknownMember,
    /// <summary>Config change: the learner is too far behind to be promoted.</summary>
    LearnerNotCaughtUp,
}

/// <summary>Result of <see cref="RawNode.Propose"/> / <see cref="RawNode.ProposeConfigChange"/>.</summary>
public readonly record struct ProposeResult(ProposeStatus Status, ulong Index, ulong Term, ulong LeaderHint)
{
    public bool IsAccepted => Status == ProposeStatus.Accepted;
}
