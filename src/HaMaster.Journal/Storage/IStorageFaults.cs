namespace HaMaster.Journal;

/// <summary>
/// Fault-injection points on every durable-storage operation of the journal, hard-state file and
/// snapshot store (a flaky disk for tests and simulations). Implementations throw to fail an
/// operation (e.g. <see cref="StorageFaultInjector.DiskFull"/>); production passes null.
/// Called from whichever thread performs the I/O, so implementations must be thread-safe.
/// </summary>
internal interface IStorageFaults
{
    /// <summary>
    /// Before a write of <paramref name="length"/> bytes at <paramref name="offset"/>. Return
    /// <paramref name="length"/> to let it happen; return less to tear it (only that prefix reaches
    /// the file, then the write fails with <see cref="SimulatedCrashException"/>); or throw.
    /// </summary>
    int BeforeWrite(string path, long offset, int length);

    /// <summary>After a write completed (lets a simulator remember unsynced regions).</summary>
    void AfterWrite(string path, long offset, int length);

    /// <summary>Before an fsync/fdatasync of a file or directory; throw to fail it.</summary>
    void BeforeSync(string path);

    /// <summary>After an fsync succeeded: the file's writes so far are durable.</summary>
    void AfterSync(string path);

    /// <summary>Before a file or directory is created; throw to fail it.</summary>
    void BeforeCreate(string path);

    /// <summary>Before an atomic rename; throw to fail it (a crash between write and rename).</summary>
    void BeforeRename(string source, string destination);
}

/// <summary>Thrown by fault injection to stand for a power cut: the process is considered dead from here on.</summary>
internal sealed class SimulatedCrashException : IOException
{
    public SimulatedCrashException(string message)
        : base(message)
    {
    }
}
