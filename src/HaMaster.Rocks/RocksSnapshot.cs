using HaMaster.Rocks.Native;

namespace HaMaster.Rocks;

/// <summary>
/// A consistent point-in-time view of a database, for reads and iterators. Released on
/// Dispose (or when the database is disposed); iterators opened on it keep the native snapshot
/// alive until they are disposed. Thread-safe to read through from many threads.
/// </summary>
public sealed class RocksSnapshot : IDisposable
{
    // SafeHandle.DangerousAddRef still succeeds on a disposed handle that an iterator keeps
    // alive, so disposal is tracked here to refuse new reads through a released snapshot.
    private volatile bool _disposed;

    internal RocksSnapshot(RocksDb owner, SnapshotHandle handle, ReadOptionsHandle readOptions)
    {
        Owner = owner;
        Handle = handle;
        ReadOptions = readOptions;
    }

    internal RocksDb Owner { get; }

    internal SnapshotHandle Handle { get; }

    /// <summary>Read options bound to this snapshot, shared by all point reads through it.</summary>
    internal ReadOptionsHandle ReadOptions { get; }

    internal bool IsDisposed => _disposed;

    public void Dispose()
    {
        _disposed = true;
        Owner.Unregister(this);
        ReadOptions.Dispose();
        Handle.Dispose();
    }
}
