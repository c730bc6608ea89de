namespace HaMaster.Raft;

/// <summary>
/// In-memory <see cref="IRaftLogStorage"/> for tests, simulation and benchmarks: everything written to it counts as
/// durable. Not thread-safe: called only from the thread driving the node.
/// </summary>
public sealed class MemoryRaftLogStorage : IRaftLogStorage
{
    // _entries[0] is a dummy holding the index/term of the last compacted entry (the snapshot point).
    private readonly List<Entry> _entries = [new Entry(0, 0, EntryType.Normal, default)];
    private readonly ClusterConfig _bootstrap;

    public MemoryRaftLogStorage(ClusterConfig bootstrapConfig) => _bootstrap = bootstrapConfig;

    public HardState InitialHardState => HardState;
    public HardState HardState { get; private set; }
    public ClusterConfig InitialConfig => Snapshot?.Config ?? _bootstrap;
    public SnapshotMetadata? Snapshot { get; private set; }
    public ulong FirstIndex => _entries[0].Index + 1;
    public ulong LastIndex => _entries[0].Index + (ulong)(_entries.Count - 1);

    public bool TryGetTerm(ulong index, out ulong term)
    {
        var offset = _entries[0].Index;
        if (index < offset || index > LastIndex) { term = 0; return false; }
        term = _entries[(int)(index - offset)].Term;
        return true;
    }

    public IReadOnlyList<Entry> Entries(ulong lo, ulong hiExclusive, long maxBytes)
    {
        if (lo < FirstIndex || hiExclusive > LastIndex + 1 || lo > hiExclusive)
            throw new ArgumentOutOfRangeException(nameof(lo), $"[{lo},{hiExclusive}) outside [{FirstIndex},{LastIndex + 1}).");
        var offset = _entries[0].Index;
        var result = new List<Entry>();
        long size = 0;
        for (var i = lo; i < hiExclusive; i++)
        {
            var e = _entries[(int)(i - offset)];
            size += e.PayloadSize;
            if (result.Count > 0 && size > maxBytes) break;
            result.Add(e);
        }
        return result;
    }

    public void SetHardState(HardState state) => HardState = state;

    /// <summary>Appends entries, truncating any existing suffix from the first new index. Entries already compacted are ignored.</summary>
    public void Append(IReadOnlyList<Entry> entries)
    {
        ArgumentNullException.ThrowIfNull(entries);
        if (entries.Count == 0) return;
        var first = entries[0].Index;
        var skip = 0;
        while (skip < entries.Count && entries[skip].Index < FirstIndex) skip++;
        if (skip == entries.Count) return;
        first = entries[skip].Index;
        if (first > LastIndex + 1) throw new InvalidOperationException($"Gap: appending {first} after {LastIndex}.");
        var offset = _entries[0].Index;
        _entries.RemoveRange((int)(first - offset), _entries.Count - (int)(first - offset));
        for (var i = skip; i < entries.Count; i++) _entries.Add(entries[i]);
    }

    /// <summary>Installs a snapshot received from the leader: the log is replaced by the snapshot point.</summary>
    public void ApplySnapshot(SnapshotMetadata snapshot)
    {
        ArgumentNullException.ThrowIfNull(snapshot);
        if (Snapshot is not null && snapshot.Index <= Snapshot.Index) return;
        Snapshot = snapshot;
        _entries.Clear();
        _entries.Add(new Entry(snapshot.Index, snapshot.Term, EntryType.Normal, default));
    }

    /// <summary>Records that the host's state machine has a snapshot at <paramref name="index"/> (&lt;= last applied)
    /// with configuration <paramref name="config"/>. Does not compact; call <see cref="Compact"/> for that.</summary>
    public SnapshotMetadata CreateSnapshot(ulong index, ClusterConfig config)
    {
        if (!TryGetTerm(index, out var term)) throw new ArgumentOutOfRangeException(nameof(index), $"No entry {index}.");
        if (Snapshot is not null && index < Snapshot.Index) throw new ArgumentOutOfRangeException(nameof(index), "Older than the current snapshot.");
        Snapshot = new SnapshotMetadata(index, term, config);
        return Snapshot;
    }

    /// <summary>Discards entries up to and including <paramref name="index"/> (which must be covered by the snapshot).</summary>
    public void Compact(ulong index)
    {
        var offset = _entries[0].Index;
        if (index <= offset) return;
        if (Snapshot is null || index > Snapshot.Index) throw new ArgumentOutOfRangeException(nameof(index), "Compact beyond the snapshot.");
        var n = (int)(index - offset);
        var last = _entries[n];
        _entries.RemoveRange(0, n + 1);
        _entries.Insert(0, new Entry(last.Index, last.Term, EntryType.Normal, default));
    }
}
