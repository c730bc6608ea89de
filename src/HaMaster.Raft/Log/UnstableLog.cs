namespace HaMaster.Raft.Log;

/// <summary>
/// Entries (and possibly an incoming snapshot) not yet persisted by the host. Entries[i] has index Offset + i.
/// Owned by <see cref="NodeLog"/>; single-threaded.
/// </summary>
internal sealed class UnstableLog
{
    public UnstableLog(ulong offset) => Offset = offset;

    public SnapshotMetadata? Snapshot { get; private set; }
    public List<Entry> Entries { get; } = [];
    public ulong Offset { get; private set; }

    public bool TryFirstIndex(out ulong index)
    {
        index = Snapshot is null ? 0 : Snapshot.Index + 1;
        return Snapshot is not null;
    }

    public bool TryLastIndex(out ulong index)
    {
        if (Entries.Count > 0) { index = Offset + (ulong)Entries.Count - 1; return true; }
        if (Snapshot is not null) { index = Snapshot.Index; return true; }
        index = 0;
        return false;
    }

    public bool TryTerm(ulong index, out ulong term)
    {
        term = 0;
        if (index < Offset)
        {
            if (Snapshot is not null && Snapshot.Index == index) { term = Snapshot.Term; return true; }
            return false;
        }
        if (!TryLastIndex(out var last) || index > last) return false;
        if (Entries.Count == 0) return false;
        term = Entries[(int)(index - Offset)].Term;
        return true;
    }

    /// <summary>The host persisted entries up to <paramref name="index"/> with <paramref name="term"/>. Ignored if the entry
    /// was replaced meanwhile (term mismatch), so a late acknowledgement can never drop a newer entry.</summary>
    public void StableTo(ulong index, ulong term)
    {
        if (!TryTerm(index, out var t) || t != term || index < Offset) return;
        var n = (int)(index + 1 - Offset);
        Entries.RemoveRange(0, n);
        Offset = index + 1;
    }

    public void StableSnapTo(ulong index)
    {
        if (Snapshot is not null && Snapshot.Index == index) Snapshot = null;
    }

    public void Restore(SnapshotMetadata snapshot)
    {
        Offset = snapshot.Index + 1;
        Entries.Clear();
        Snapshot = snapshot;
    }

    public void TruncateAndAppend(IReadOnlyList<Entry> entries, int from)
    {
        var after = entries[from].Index;
        if (after == Offset + (ulong)Entries.Count)
        {
            // Directly continues the unstable entries.
        }
        else if (after <= Offset)
        {
            // Replaces all unstable entries (the storage suffix from `after` is truncated by the host on persist).
            Offset = after;
            Entries.Clear();
        }
        else
        {
            Entries.RemoveRange((int)(after - Offset), Entries.Count - (int)(after - Offset));
        }
        for (var i = from; i < entries.Count; i++) Entries.Add(entries[i]);
    }
}
