namespace HaMaster.Raft;

/// <summary>Replication state of a follower as seen by the leader.</summary>
public enum ProgressState : byte
{
    /// <summary>One append at a time until the follower's match is found.</summary>
    Probe,
    /// <summary>Optimistic pipelining, bounded by the in-flight limits.</summary>
    Replicate,
    /// <summary>A snapshot is being sent; appends pause until it is reported.</summary>
    Snapshot,
}

/// <summary>A leader's view of one peer.</summary>
public readonly record struct PeerProgress(ulong Id, ulong Match, ulong Next, ProgressState State, bool IsLearner, bool RecentActive, int Inflight);

/// <summary>Snapshot of a node's state for diagnostics and tests.</summary>
public sealed record RaftStatus(
    ulong Id, ulong Term, ulong Vote, RaftRole Role, ulong Leader, ulong Commit, ulong Applied,
    ulong FirstIndex, ulong LastIndex, ClusterConfig Config, ulong LeadTransferee,
    IReadOnlyList<PeerProgress> Progress);
