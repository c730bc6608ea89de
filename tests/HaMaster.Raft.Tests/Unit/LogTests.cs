using HaMaster.Raft;
using HaMaster.Raft.Log;

namespace HaMaster.Raft.Tests.Unit;

public sealed class LogTests
{
    private static Entry E(ulong index, ulong term, string data = "x") => new(index, term, EntryType.Normal, TestCluster.Data(data));

    private static MemoryRaftLogStorage StorageWith(params ulong[] terms)
    {
        var s = new MemoryRaftLogStorage(new ClusterConfig([1UL]));
        s.Append(terms.Select((t, i) => E((ulong)i + 1, t)).ToList());
        return s;
    }

    [Fact]
    public void Storage_append_truncates_conflicting_suffix_and_compacts_behind_snapshot()
    {
        var s = StorageWith(1, 1, 2, 2);
        s.Append([E(3, 3), E(4, 3), E(5, 3)]);
        Assert.Equal(5UL, s.LastIndex);
        Assert.True(s.TryGetTerm(3, out var t3));
        Assert.Equal(3UL, t3);
        s.CreateSnapshot(4, new ClusterConfig([1UL]));
        s.Compact(3);
        Assert.Equal(4UL, s.FirstIndex);
        Assert.True(s.TryGetTerm(3, out var dummy)); // the compaction point keeps its term
        Assert.Equal(3UL, dummy);
        Assert.False(s.TryGetTerm(2, out _));
        Assert.Throws<ArgumentOutOfRangeException>(() => s.Entries(2, 5, long.MaxValue));
        Assert.Throws<ArgumentOutOfRangeException>(() => s.Compact(5)); // beyond the snapshot
    }

    [Fact]
    public void Storage_entries_respect_max_bytes_but_return_at_least_one()
    {
        var s = StorageWith(1, 1, 1);
        Assert.Single(s.Entries(1, 4, 0));
        Assert.Equal(2, s.Entries(1, 4, 2).Count);
    }

    [Fact]
    public void MaybeAppend_rejects_on_mismatch_and_truncates_only_conflicts()
    {
        var log = new NodeLog(StorageWith(1, 1, 2));
        Assert.False(log.MaybeAppend(3, 1, 0, [E(4, 3)], out _, out _)); // prev term mismatch (§5.3)
        Assert.False(log.MaybeAppend(5, 2, 0, [E(6, 3)], out _, out _)); // missing prev entry
        // Entries already present are not re-written; a conflicting one replaces the suffix.
        Assert.True(log.MaybeAppend(1, 1, 2, [E(2, 1), E(3, 3), E(4, 3)], out var lastNew, out var from));
        Assert.Equal(4UL, lastNew);
        Assert.Equal(1, from);
        Assert.Equal(3UL, log.Term(3));
        Assert.Equal(2UL, log.Committed);
        // A duplicate (reordered) shorter append must not truncate newer entries (Figure 2 rule 3 only on conflict).
        Assert.True(log.MaybeAppend(1, 1, 2, [E(2, 1)], out _, out from));
        Assert.Equal(-1, from);
        Assert.Equal(4UL, log.LastIndex);
    }

    [Fact]
    public void Truncating_a_committed_entry_fails_fast()
    {
        var log = new NodeLog(StorageWith(1, 1, 1));
        log.CommitTo(3);
        Assert.Throws<InvalidOperationException>(() => log.MaybeAppend(1, 1, 3, [E(2, 2)], out _, out _));
        Assert.Throws<InvalidOperationException>(() => log.CommitTo(9));
    }

    [Fact]
    public void FindConflictByTerm_skips_whole_terms()
    {
        var log = new NodeLog(StorageWith(1, 1, 2, 2, 2, 4, 4));
        Assert.Equal((5UL, 2UL), log.FindConflictByTerm(7, 3));
        Assert.Equal((2UL, 1UL), log.FindConflictByTerm(7, 1));
        Assert.Equal((7UL, 4UL), log.FindConflictByTerm(7, 5));
        Assert.Equal((0UL, 0UL), log.FindConflictByTerm(7, 0));
    }

    [Fact]
    public void IsUpToDate_compares_last_term_then_length()
    {
        var log = new NodeLog(StorageWith(1, 2, 2));
        Assert.True(log.IsUpToDate(1, 3));
        Assert.True(log.IsUpToDate(3, 2));
        Assert.False(log.IsUpToDate(2, 2));
        Assert.False(log.IsUpToDate(10, 1));
    }

    [Fact]
    public void Slice_spans_storage_and_unstable_within_byte_limit()
    {
        var log = new NodeLog(StorageWith(1, 1));
        log.Append([E(3, 2), E(4, 2)], 0);
        Assert.Equal([1UL, 2UL, 3UL, 4UL], log.Slice(1, 5, long.MaxValue).Select(e => e.Index));
        Assert.Equal([2UL, 3UL], log.Slice(2, 5, 2).Select(e => e.Index));
        Assert.Equal([3UL], log.Slice(3, 5, 1).Select(e => e.Index));
    }

    [Fact]
    public void Unstable_stableTo_ignores_an_entry_replaced_meanwhile()
    {
        var u = new UnstableLog(1);
        u.TruncateAndAppend([E(1, 1), E(2, 1)], 0);
        u.TruncateAndAppend([E(2, 2)], 0);
        u.StableTo(2, 1); // the host persisted the old (1,2)/term 1: does not cover the new entry
        Assert.Equal(2, u.Entries.Count);
        u.StableTo(2, 2);
        Assert.Empty(u.Entries);
        Assert.Equal(3UL, u.Offset);
    }

    [Fact]
    public void Restore_resets_to_snapshot()
    {
        var log = new NodeLog(StorageWith(1, 1));
        var snap = new SnapshotMetadata(10, 3, new ClusterConfig([1UL]));
        log.Restore(snap);
        Assert.Equal(10UL, log.LastIndex);
        Assert.Equal(11UL, log.FirstIndex);
        Assert.Equal(10UL, log.Committed);
        Assert.Equal(3UL, log.Term(10));
        Assert.False(log.HasNextCommittedEntries); // nothing to apply until the snapshot is installed
        log.OnSnapshotInstalled(10);
        Assert.Equal(10UL, log.Applied);
    }
}
