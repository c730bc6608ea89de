namespace HaMaster.Journal;

/// <summary>
/// The journal found damaged data it cannot repair safely (a checksum failure in the middle of
/// the log, a missing segment, a damaged hard-state file). The node must stop: the message names
/// the file and offset and what the operator can do.
/// </summary>
public sealed class JournalCorruptedException : IOException
{
    public JournalCorruptedException(string message, string file, long offset)
        : base(message)
    {
        File = file;
        Offset = offset;
    }

    /// <summary>The damaged file.</summary>
    public string File { get; }

    /// <summary>Byte offset of the damage in <see cref="File"/>.</summary>
    public long Offset { get; }
}

/// <summary>
/// A write or fsync failed (disk full, permission denied, I/O error). After an fsync failure the
/// kernel's page cache state is unknown, so the log refuses further work until it is reopened;
/// nothing that was acknowledged as durable is affected, and recovery on reopen drops any
/// unsynced tail.
/// </summary>
public sealed class JournalFailedException : IOException
{
    public JournalFailedException(string message, Exception? inner)
        : base(message, inner)
    {
    }
}

/// <summary>The requested index lies below the snapshot boundary (compacted) or beyond the end of the log.</summary>
public sealed class LogIndexUnavailableException : InvalidOperationException
{
    public LogIndexUnavailableException(string message, ulong index, TermLookup reason)
        : base(message)
    {
        Index = index;
        Reason = reason;
    }

    public ulong Index { get; }

    public TermLookup Reason { get; }
}

/// <summary>A snapshot file or chunk failed checksum or length verification.</summary>
public sealed class SnapshotIntegrityException : IOException
{
    public SnapshotIntegrityException(string message)
        : base(message)
    {
    }
}
