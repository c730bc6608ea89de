namespace HaMaster.Journal;

/// <summary>Configuration of a <see cref="RaftLog"/>. Immutable; <see cref="Validate"/> is called by <see cref="RaftLog.Open(RaftLogOptions)"/>.</summary>
public sealed record RaftLogOptions
{
    /// <summary>Directory holding the segment files and the log metadata; created if missing. Required.</summary>
    public required string Directory { get; init; }

    /// <summary>Segment size in bytes (default 64 MiB, within [64 KiB, 1 GiB]). A single record larger than this gets a segment of its own.</summary>
    public long SegmentBytes { get; init; } = 64L << 20;

    /// <summary>
    /// Allocate each segment's full size when it is created (default true), so that appends do
    /// not grow the file and fdatasync rarely has to write file metadata.
    /// </summary>
    public bool PreallocateSegments { get; init; } = true;

    /// <summary>
    /// With <see cref="PreallocateSegments"/>: keep the next segment zero-filled and synced in the
    /// background (default true), so fdatasync on it never has to commit block-allocation metadata
    /// (fallocate alone leaves "unwritten" extents that each first write converts). Costs one extra
    /// write of every segment and one spare segment of disk space.
    /// </summary>
    public bool ZeroFillSegments { get; init; } = true;

    /// <summary>Issue fdatasync (default true). False only for tests and benchmarks of the CPU path: nothing is durable then.</summary>
    public bool Fsync { get; init; } = true;

    /// <summary>
    /// Optional wait before each group commit to gather more appenders (default null: none; the
    /// natural batching while an fsync is in flight is usually enough). At most 100 ms.
    /// </summary>
    public TimeSpan? MaxGroupCommitDelay { get; init; }

    /// <summary>
    /// Group-commit rounds whose fdatasync may be in flight at once (default 2, within [1, 8]). With 2,
    /// the next batch's write and sync start while the previous sync is still running, so a caller
    /// waits about one sync instead of two; rounds still become durable (complete) in order.
    /// </summary>
    public int MaxConcurrentSyncs { get; init; } = 2;

    /// <summary>
    /// Bytes appended but not yet written that trigger an immediate write to the OS (default 1 MiB);
    /// bounds memory between flushes.
    /// </summary>
    public int WriteBufferBytes { get; init; } = 1 << 20;

    /// <summary>
    /// Operator escape hatch (default false): when recovery finds a damaged record in the last
    /// segment that is followed by intact ones, truncate the log there instead of refusing to start.
    /// Loses every entry after the damage; use only when the node can re-fetch them from the leader.
    /// </summary>
    public bool TruncateAfterCorruption { get; init; }

    /// <summary>Largest payload accepted (default 256 MiB).</summary>
    public int MaxPayloadBytes { get; init; } = 256 << 20;

    /// <summary>Throws <see cref="ArgumentException"/> describing the first invalid setting.</summary>
    public void Validate()
    {
        if (string.IsNullOrWhiteSpace(Directory))
        {
            throw new ArgumentException("RaftLogOptions.Directory is required.");
        }
        if (SegmentBytes is < 64 << 10 or > 1L << 30)
        {
            throw new ArgumentException($"RaftLogOptions.SegmentBytes must be within [64 KiB, 1 GiB] (was {SegmentBytes}).");
        }
        if (MaxGroupCommitDelay is { } d && (d < TimeSpan.Zero || d > TimeSpan.FromMilliseconds(100)))
        {
            throw new ArgumentException($"RaftLogOptions.MaxGroupCommitDelay must be within [0, 100 ms] (was {d}).");
        }
        if (MaxConcurrentSyncs is < 1 or > 8)
        {
            throw new ArgumentException($"RaftLogOptions.MaxConcurrentSyncs must be within [1, 8] (was {MaxConcurrentSyncs}).");
        }
        if (WriteBufferBytes < 4096)
        {
            throw new ArgumentException($"RaftLogOptions.WriteBufferBytes must be at least 4096 (was {WriteBufferBytes}).");
        }
        if (MaxPayloadBytes <= 0 || MaxPayloadBytes > 1 << 30)
        {
            throw new ArgumentException($"RaftLogOptions.MaxPayloadBytes must be within (0, 1 GiB] (was {MaxPayloadBytes}).");
        }
    }
}
