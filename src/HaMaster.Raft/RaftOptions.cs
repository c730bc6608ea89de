namespace HaMaster.Raft;

/// <summary>
/// Immutable configuration of one Raft node. All durations are in <em>ticks</em>: the host
/// calls <see cref="RawNode.Tick"/> at a fixed interval it chooses (e.g. every 100 ms), so the
/// core never reads a clock. Call <see cref="Validate"/> (the <see cref="RawNode"/> constructor does).
/// </summary>
public sealed record RaftOptions
{
    /// <summary>This node's id; non-zero (0 means "no node" on the wire).</summary>
    public ulong Id { get; init; }

    /// <summary>Election timeout in ticks (default 10). A follower that hears nothing from a leader
    /// for a randomized timeout in [ElectionTicks, 2*ElectionTicks) starts an election. Must exceed <see cref="HeartbeatTicks"/>.</summary>
    public int ElectionTicks { get; init; } = 10;

    /// <summary>Heartbeat interval of a leader, in ticks (default 1).</summary>
    public int HeartbeatTicks { get; init; } = 1;

    /// <summary>Run the pre-vote phase (thesis §9.6) before incrementing the term (default true):
    /// a partitioned node rejoining does not disrupt a healthy leader.</summary>
    public bool PreVote { get; init; } = true;

    /// <summary>A leader that has not heard from a quorum for an election timeout steps down (default true).
    /// It also makes followers ignore vote requests while they hear from a leader (thesis §4.2.3).</summary>
    public bool CheckQuorum { get; init; } = true;

    /// <summary>Max append messages in flight to one follower in the replicate state (default 256).</summary>
    public int MaxInflightMessages { get; init; } = 256;

    /// <summary>Max payload bytes in flight to one follower; 0 = unlimited (default 0).</summary>
    public long MaxInflightBytes { get; init; }

    /// <summary>Max payload bytes of entries in one append message (default 1 MiB); a single larger entry is still sent alone.</summary>
    public long MaxSizePerMessage { get; init; } = 1 << 20;

    /// <summary>Max payload bytes of a leader's uncommitted entries; proposals beyond it are refused
    /// with <see cref="ProposeStatus.UncommittedLimit"/>. 0 = unlimited (default 0).</summary>
    public long MaxUncommittedEntriesBytes { get; init; }

    /// <summary>Max payload bytes of committed entries handed out in one <see cref="Ready"/> (default 64 MiB).</summary>
    public long MaxCommittedSizePerReady { get; init; } = 64L << 20;

    /// <summary>Serve ReadIndex from a leader lease without a heartbeat round (default false).
    /// Requires <see cref="CheckQuorum"/>; safe only if clocks drift by at most <see cref="MaxClockDriftTicks"/> per election timeout.</summary>
    public bool LeaseReads { get; init; }

    /// <summary>Bound on how many ticks the fastest and slowest node clocks may differ within one election
    /// timeout; the lease is shortened by this much (default 2). Must be below <see cref="ElectionTicks"/>.</summary>
    public int MaxClockDriftTicks { get; init; } = 2;

    /// <summary>Seed of the PRNG that randomizes election timeouts; mixed with <see cref="Id"/> (default 0).</summary>
    public ulong RandomSeed { get; init; }

    /// <summary>Index the host's state machine has already applied at start-up (default 0 = the storage's snapshot index).
    /// Committed entries at or below it are not handed out again.</summary>
    public ulong Applied { get; init; }

    /// <summary>A learner is promoted only if it is within this many entries of the leader's last index (default 1024).</summary>
    public ulong PromotionMaxLagEntries { get; init; } = 1024;

    /// <summary>TEST ONLY mutation: voters grant votes without the §5.4.1 up-to-date log check.
    /// Breaks leader completeness; exists so the simulator can prove it catches such bugs.</summary>
    internal bool UnsafeSkipVoteLogCheck { get; init; }

    /// <summary>TEST ONLY mutation: the leader answers ReadIndex with its commit index without confirming leadership (stale reads).</summary>
    internal bool UnsafeReadWithoutQuorum { get; init; }

    /// <summary>TEST ONLY mutation: the leader commits by counting replicas of entries of older terms (violates Figure 8).</summary>
    internal bool UnsafeCommitOldTermEntries { get; init; }

    /// <summary>Throws <see cref="ArgumentException"/> describing the first invalid setting.</summary>
    public RaftOptions Validate()
    {
        if (Id == 0) throw new ArgumentException("Id must be non-zero.", nameof(Id));
        if (HeartbeatTicks <= 0) throw new ArgumentException("HeartbeatTicks must be positive.", nameof(HeartbeatTicks));
        if (ElectionTicks <= HeartbeatTicks) throw new ArgumentException("ElectionTicks must exceed HeartbeatTicks.", nameof(ElectionTicks));
        if (MaxInflightMessages <= 0) throw new ArgumentException("MaxInflightMessages must be positive.", nameof(MaxInflightMessages));
        if (MaxInflightBytes < 0) throw new ArgumentException("MaxInflightBytes must be >= 0.", nameof(MaxInflightBytes));
        if (MaxSizePerMessage <= 0) throw new ArgumentException("MaxSizePerMessage must be positive.", nameof(MaxSizePerMessage));
        if (MaxUncommittedEntriesBytes < 0) throw new ArgumentException("MaxUncommittedEntriesBytes must be >= 0.", nameof(MaxUncommittedEntriesBytes));
        if (MaxCommittedSizePerReady <= 0) throw new ArgumentException("MaxCommittedSizePerReady must be positive.", nameof(MaxCommittedSizePerReady));
        if (MaxClockDriftTicks < 0 || MaxClockDriftTicks >= ElectionTicks) throw new ArgumentException("MaxClockDriftTicks must be in [0, ElectionTicks).", nameof(MaxClockDriftTicks));
        if (LeaseReads && !CheckQuorum) throw new ArgumentException("LeaseReads requires CheckQuorum.", nameof(LeaseReads));
        return this;
    }
}
