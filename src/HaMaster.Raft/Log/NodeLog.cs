namespace HaMaster.Raft.Log;

/// <summary>
/// The node's view of the log: durable entries in the host's storage followed by unstable ones, plus the commit and
/// applied indexes. Invariant: applied &lt;= committed &lt;= last index; committed entries are never truncated
/// (a violation is a bug and fails fast). Single-threaded.
/// </summary>
internal sealed class NodeLog
{
    private readonly IRaftLogStorage _storage;

    public NodeLog(IRaftLogStorage storage)
    {
        _storage = storage;
        Unstable = new UnstableLog(storage.LastIndex + 1);
        Committed = storage.FirstIndex - 1;
        Applied = storage.FirstIndex - 1;
    }

    public UnstableLog Unstable { get; }
    public ulong Committed { get; private set; }
    public ulong Applied { get; private set; }

    public ulong FirstIndex => Unstable.TryFirstIndex(out var i) ? i : _storage.FirstIndex;
    public ulong LastIndex => Unstable.TryLastIndex(out var i) ? i : _storage.LastIndex;
    public ulong LastTerm => Term(LastIndex);

    /// <summary>Latest snapshot known to the node (a received one not yet persisted, else the storage's).</summary>
    public SnapshotMetadata? Snapshot => Unstable.Snapshot ?? _storage.Snapshot;

    public bool TryTerm(ulong index, out ulong term)
    {
        term = 0;
        if (index + 1 < FirstIndex || index > LastIndex) return false;
        if (Unstable.TryTerm(index, out term)) return true;
        return _storage.TryGetTerm(index, out term);
    }

    /// <summary>Term of an entry, 0 if it is compacted or beyond the log.</summary>
    public ulong Term(ulong index) => TryTerm(index, out var t) ? t : 0;

    public bool MatchTerm(ulong index, ulong term) => TryTerm(index, out var t) && t == term;

    /// <summary>§5.4.1: a candidate's log is at least as up-to-date as ours.</summary>
    public bool IsUpToDate(ulong lastIndex, ulong lastTerm) =>
        lastTerm > LastTerm || (lastTerm == LastTerm && lastIndex >= LastIndex);

    /// <summary>
    /// Figure 2 AppendEntries receiver rules 2-5. Returns false if the log has no entry (index, logTerm).
    /// <paramref name="appendedFrom"/> is the position in <paramref name="entries"/> of the first entry actually
    /// written (-1 if all were already present).
    /// </summary>
    public bool MaybeAppend(ulong index, ulong logTerm, ulong committed, IReadOnlyList<Entry> entries, out ulong lastNewIndex, out int appendedFrom)
    {
        appendedFrom = -1;
        lastNewIndex = 0;
        if (!MatchTerm(index, logTerm)) return false;
        lastNewIndex = index + (ulong)entries.Count;
        var conflict = FindConflict(entries);
        if (conflict != 0)
        {
            if (conflict <= Committed) throw new InvalidOperationException($"Entry {conflict} conflicts with committed entry (commit {Committed}).");
            appendedFrom = (int)(conflict - (index + 1));
            Append(entries, appendedFrom);
        }
        CommitTo(Math.Min(committed, lastNewIndex));
        return true;
    }

    /// <summary>First entry whose index/term is not in our log (a conflict or a new entry), or 0.</summary>
    private ulong FindConflict(IReadOnlyList<Entry> entries)
    {
        for (var i = 0; i < entries.Count; i++)
        {
            if (!MatchTerm(entries[i].Index, entries[i].Term)) return entries[i].Index;
        }
        return 0;
    }

    /// <summary>
    /// Fast back-off (thesis §5.3 optimization): the largest index &lt;= <paramref name="index"/> whose term is
    /// &lt;= <paramref name="term"/>, with that term; every entry above it cannot match a log whose entry at
    /// <paramref name="index"/> has <paramref name="term"/>.
    /// </summary>
    public (ulong Index, ulong Term) FindConflictByTerm(ulong index, ulong term)
    {
        for (; index > 0; index--)
        {
            if (!TryTerm(index, out var t)) return (index, 0);
            if (t <= term) return (index, t);
        }
        return (0, 0);
    }

    public void Append(IReadOnlyList<Entry> entries, int from)
    {
        if (from >= entries.Count) return;
        var after = entries[from].Index - 1;
        if (after < Committed) throw new InvalidOperationException($"Appending after {after} would truncate committed {Committed}.");
        if (after > LastIndex) throw new InvalidOperationException($"Gap: appending after {after} but last is {LastIndex}.");
        Unstable.TruncateAndAppend(entries, from);
    }

    public void AppendOne(Entry entry)
    {
        if (entry.Index != LastIndex + 1) throw new InvalidOperationException("Leader append must extend the log.");
        Unstable.Entries.Add(entry);
    }

    public void CommitTo(ulong index)
    {
        if (index <= Committed) return;
        if (index > LastIndex) throw new InvalidOperationException($"Commit {index} beyond last index {LastIndex}.");
        Committed = index;
    }

    /// <summary>Figure 8 / §5.4.2: commit <paramref name="index"/> only if its entry is from <paramref name="term"/>.</summary>
    public bool MaybeCommit(ulong index, ulong term)
    {
        if (index > Committed && Term(index) == term)
        {
            CommitTo(index);
            return true;
        }
        return false;
    }

    public void AppliedTo(ulong index)
    {
        if (index == 0 || index <= Applied) return;
        if (index > Committed) throw new InvalidOperationException($"Applied {index} beyond commit {Committed}.");
        Applied = index;
    }

    public void SetInitialState(ulong committed, ulong applied)
    {
        if (committed > LastIndex) throw new InvalidOperationException($"Stored commit {committed} beyond last index {LastIndex}.");
        Committed = Math.Max(Committed, committed);
        Applied = Math.Min(Math.Max(Applied, applied), Committed);
    }

    public bool HasNextCommittedEntries => Committed > Math.Max(Applied, FirstIndex - 1) && Unstable.Snapshot is null;

    public IReadOnlyList<Entry> NextCommittedEntries(long maxBytes)
    {
        if (!HasNextCommittedEntries) return [];
        var lo = Math.Max(Applied + 1, FirstIndex);
        return Slice(lo, Committed + 1, maxBytes);
    }

    /// <summary>Entries [lo, hi) (lo &gt;= FirstIndex, hi &lt;= LastIndex+1) up to <paramref name="maxBytes"/> payload (at least one).</summary>
    public IReadOnlyList<Entry> Slice(ulong lo, ulong hi, long maxBytes)
    {
        if (lo >= hi) return [];
        if (lo < FirstIndex || hi > LastIndex + 1) throw new InvalidOperationException($"Slice [{lo},{hi}) outside [{FirstIndex},{LastIndex + 1}).");
        var offset = Unstable.Offset;
        List<Entry>? result = null;
        long size = 0;
        if (lo < offset)
        {
            var stored = _storage.Entries(lo, Math.Min(hi, offset), maxBytes);
            foreach (var e in stored) size += e.PayloadSize;
            if ((ulong)stored.Count < Math.Min(hi, offset) - lo || hi <= offset) return stored;
            result = new List<Entry>(stored);
        }
        if (hi > offset)
        {
            var from = Math.Max(lo, offset);
            var count = (int)(hi - from);
            var start = (int)(from - offset);
            if (result is null)
            {
                // Fast path: all in memory. Count entries within the byte limit, copy once.
                var n = 0;
                for (; n < count; n++)
                {
                    size += Unstable.Entries[start + n].PayloadSize;
                    if (n > 0 && size > maxBytes) break;
                }
                var array = new Entry[n];
                Unstable.Entries.CopyTo(start, array, 0, n);
                return array;
            }
            for (var i = 0; i < count; i++)
            {
                var e = Unstable.Entries[start + i];
                size += e.PayloadSize;
                if (result.Count > 0 && size > maxBytes) break;
                result.Add(e);
            }
        }
        return result ?? (IReadOnlyList<Entry>)[];
    }

    /// <summary>Resets the log to a snapshot received from the leader (§7): everything before it is discarded.</summary>
    public void Restore(SnapshotMetadata snapshot)
    {
        Committed = snapshot.Index;
        Unstable.Restore(snapshot);
    }

    public void OnSnapshotInstalled(ulong index)
    {
        Unstable.StableSnapTo(index);
        if (index > Applied) Applied = index;
    }

    public IReadOnlyList<Entry> StoredEntries(ulong lo, ulong hi, long maxBytes) => _storage.Entries(lo, hi, maxBytes);
}
