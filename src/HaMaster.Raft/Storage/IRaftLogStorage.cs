namespace HaMaster.Raft;

/// <summary>
/// Read-only view of the host's durable Raft storage, used by the core (etcd's <c>Storage</c>). The host writes to it
/// while processing a <see cref="Ready"/>; the core only reads. Called only from the thread that drives the
/// <see cref="RawNode"/>.
/// </summary>
public interface IRaftLogStorage
{
    /// <summary>Hard state persisted last (zero for a new node).</summary>
    HardState InitialHardState { get; }

    /// <summary>Configuration as of the snapshot (or the bootstrap configuration when there is no snapshot; empty for a joining node).
    /// ConfigChange entries in the log after it are replayed by the core.</summary>
    ClusterConfig InitialConfig { get; }

    /// <summary>Index of the first available entry (snapshot index + 1 once compacted).</summary>
    ulong FirstIndex { get; }

    /// <summary>Index of the last entry (the snapshot index if the log is empty).</summary>
    ulong LastIndex { get; }

    /// <summary>Term of the entry at <paramref name="index"/> for index in [FirstIndex-1, LastIndex]; false if compacted or beyond the log.</summary>
    bool TryGetTerm(ulong index, out ulong term);

    /// <summary>Entries [lo, hiExclusive) with FirstIndex &lt;= lo &lt; hiExclusive &lt;= LastIndex+1, stopping once
    /// <paramref name="maxBytes"/> of payload is reached (at least one entry is returned).</summary>
    IReadOnlyList<Entry> Entries(ulong lo, ulong hiExclusive, long maxBytes);

    /// <summary>Latest snapshot, or null.</summary>
    SnapshotMetadata? Snapshot { get; }
}
