namespace HaMaster.Raft;

/// <summary>Role of a node.</summary>
public enum RaftRole : byte { Follower, PreCandidate, Candidate, Leader, Learner }

/// <summary>Volatile state the host may want to observe (no need to persist).</summary>
public readonly record struct SoftState(ulong Leader, RaftRole Role);

/// <summary>A linearizable read is ready once the state machine has applied <see cref="Index"/>.</summary>
public readonly record struct ReadState(ulong Index, ReadOnlyMemory<byte> RequestContext);

/// <summary>
/// A batch of work produced by <see cref="RawNode.GetReady"/>. The host MUST process it in this order, then call
/// <see cref="RawNode.Advance"/>:
/// <list type="number">
/// <item>Send <see cref="MessagesBeforePersist"/> (a leader's appends: thesis §10.2.1 lets the leader write its own
/// disk in parallel with replication; the core counts the leader's copy only after <see cref="RawNode.Advance"/>).</item>
/// <item>If <see cref="Snapshot"/> is set, install it in durable storage (replacing the log).</item>
/// <item>Append <see cref="EntriesToPersist"/> (truncating any conflicting suffix) and write <see cref="HardState"/>; fsync once for both.</item>
/// <item>Only then send <see cref="Messages"/>: a vote or an append must never be acknowledged before it is durable.</item>
/// <item>Restore the state machine from <see cref="Snapshot"/> if set, then apply <see cref="CommittedEntries"/> in order.</item>
/// <item>Answer <see cref="ReadStates"/> once the applied index reaches their index; fail <see cref="DroppedReads"/>.</item>
/// </list>
/// No other <see cref="RawNode"/> call may happen between <see cref="RawNode.GetReady"/> and <see cref="RawNode.Advance"/>
/// except <see cref="RawNode.Status"/>; a crash anywhere in between is safe (the restarted node recomputes from storage).
/// </summary>
public sealed class Ready
{
    /// <summary>Changed role/leader, or null if unchanged. Informational.</summary>
    public SoftState? SoftState { get; init; }

    /// <summary>New hard state to persist (fsync) before sending <see cref="Messages"/>, or null if unchanged.</summary>
    public HardState? HardState { get; init; }

    /// <summary>A snapshot received from the leader: install it in storage before persisting entries, and restore
    /// the state machine from it before applying <see cref="CommittedEntries"/>.</summary>
    public SnapshotMetadata? Snapshot { get; init; }

    /// <summary>Entries to append to the durable log, truncating any existing suffix from the first one's index,
    /// and fsync before sending <see cref="Messages"/>.</summary>
    public IReadOnlyList<Entry> EntriesToPersist { get; init; } = [];

    /// <summary>Committed entries to apply in order after this Ready's persistence (they are durable on a quorum).
    /// Skip Normal entries with empty data (leader no-ops); ConfigChange entries carry a <see cref="ConfigTransition"/>
    /// (the core has already acted on it: the host just records the configuration for its snapshots).</summary>
    public IReadOnlyList<Entry> CommittedEntries { get; init; } = [];

    /// <summary>A leader's appends, heartbeats and snapshots: send them first, before (or while) persisting this Ready.
    /// Sending them after persisting is also correct, only slower.</summary>
    public IReadOnlyList<Message> MessagesBeforePersist { get; init; } = [];

    /// <summary>Messages to send after the above is durable.</summary>
    public IReadOnlyList<Message> Messages { get; init; } = [];

    /// <summary>Confirmed reads: answer each once applied index &gt;= its Index.</summary>
    public IReadOnlyList<ReadState> ReadStates { get; init; } = [];

    /// <summary>Contexts of read requests the core could not serve (no leader, leadership lost): fail or retry them.</summary>
    public IReadOnlyList<ReadOnlyMemory<byte>> DroppedReads { get; init; } = [];

    /// <summary>Must-sync hint: true when entries or the term/vote changed (a commit-only change may be written lazily).</summary>
    public bool MustSync { get; init; }
}
