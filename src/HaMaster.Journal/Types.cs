namespace HaMaster.Journal;

/// <summary>
/// One Raft log entry as the journal stores it. <paramref name="Kind"/> is opaque to the journal
/// (the server stores the Raft entry type there).
/// </summary>
public readonly record struct LogRecord(ulong Index, ulong Term, byte Kind, ReadOnlyMemory<byte> Payload);

/// <summary>The persisted Raft hard state: current term, vote (0 = none) and commit index.</summary>
public readonly record struct HardStateRecord(ulong Term, ulong VotedFor, ulong Commit);

/// <summary>Outcome of <see cref="RaftLog.TryGetTerm"/>: a value, not an exception, on the hot path.</summary>
public enum TermLookup
{
    /// <summary>The term was found.</summary>
    Found,
    /// <summary>The index is below the snapshot boundary: the entry was compacted.</summary>
    Compacted,
    /// <summary>The index is beyond <see cref="RaftLog.LastIndex"/>.</summary>
    Unavailable,
}

/// <summary>What <see cref="RaftLog.Open(RaftLogOptions)"/> found and repaired.</summary>
/// <param name="SegmentsScanned">Segment files read during recovery.</param>
/// <param name="RecordsRecovered">Records found intact (including ones below the snapshot boundary).</param>
/// <param name="FirstIndex">First readable index after recovery.</param>
/// <param name="LastIndex">Last index after recovery.</param>
/// <param name="TornTailTruncated">True when an incomplete or damaged final record (or unsynced garbage after the end) was cut off.</param>
/// <param name="TruncatedFile">File that was repaired, when <paramref name="TornTailTruncated"/>.</param>
/// <param name="TruncatedAtOffset">Byte offset in that file where the log now ends.</param>
/// <param name="DiscardedBytes">Non-zero bytes discarded after that offset.</param>
/// <param name="Detail">Human-readable description of the repair, or null.</param>
/// <param name="Elapsed">Time spent recovering.</param>
public sealed record RecoveryReport(
    int SegmentsScanned,
    long RecordsRecovered,
    ulong FirstIndex,
    ulong LastIndex,
    bool TornTailTruncated,
    string? TruncatedFile,
    long TruncatedAtOffset,
    long DiscardedBytes,
    string? Detail,
    TimeSpan Elapsed);
