using HaMaster.Journal;
using HaMaster.Raft;

namespace HaMaster.Server.Raft;

/// <summary>
/// The consensus core's read-only view (<see cref="IRaftLogStorage"/>) of this master's durable
/// Raft state: the segmented log, the hard state file and the newest snapshot's metadata.
/// Called only from the Raft loop thread, which is also the only writer.
/// </summary>
internal sealed class JournalRaftStorage : IRaftLogStorage
{
    private readonly RaftLog _log;

    public JournalRaftStorage(RaftLog log, HardState initialHardState, ClusterConfig initialConfig, SnapshotMetadata? snapshot)
    {
        _log = log;
        InitialHardState = initialHardState;
        InitialConfig = initialConfig;
        Snapshot = snapshot;
    }

    public HardState InitialHardState { get; }

    public ClusterConfig InitialConfig { get; }

    public SnapshotMetadata? Snapshot { get; set; }

    // Entries behind the newest snapshot are kept for a while (LogEntriesKeptBehindSnapshot), so
    // the first index comes from the log, not from the snapshot.
    public ulong FirstIndex => _log.FirstIndex;

    public ulong LastIndex => Math.Max(_log.LastIndex, Snapshot?.Index ?? 0);

    public bool TryGetTerm(ulong index, out ulong term)
    {
        if (Snapshot is { } s && index == s.Index)
        {
            term = s.Term;
            return true;
        }

        if (index == 0)
        {
            term = 0;
            return true;
        }

        return _log.TryGetTerm(index, out term) == TermLookup.Found;
    }

    public IReadOnlyList<Entry> Entries(ulong lo, ulong hiExclusive, long maxBytes)
    {
        var records = _log.Read(lo, hiExclusive, maxBytes);
        var entries = new Entry[records.Count];
        for (var i = 0; i < entries.Length; i++)
        {
            var r = records[i];
            entries[i] = new Entry(r.Index, r.Term, (EntryType)r.Kind, r.Payload);
        }

        return entries;
    }

    public static LogRecord ToRecord(in Entry e) => new(e.Index, e.Term, (byte)e.Type, e.Data);
}
