using HaMaster.Rocks.Lifetime;
using RocksDbSharp;

namespace HaMaster.Rocks;

/// <summary>
/// A consistent point-in-time view of a database, for reads and iterators. Released on
/// Dispose (or when the database is disposed); iterators opened on it keep the native snapshot
/// alive until they are disposed. Thread-safe to read through from many threads.
/// </summary>
public sealed class RocksSnapshot : IDisposable
{
    private readonly NativeLifetime _lifetime;
    private readonly NativeLifetime _readOptionsLifetime;

    // A lifetime that an iterator keeps alive still accepts references after Dispose, so disposal
    // is tracked here to refuse new reads through a released snapshot.
    private volatile bool _disposed;

    internal RocksSnapshot(RocksDb owner, Snapshot snapshot)
    {
        Owner = owner;
        Inner = snapshot;
        _lifetime = new NativeLifetime(snapshot.Dispose, owner.Lifetime);
        try
        {
            (ReadOptions, _readOptionsLifetime) = OwnedReadOptions.Create(snapshot, null, null, prefixSameAsStart: false, _lifetime);
        }
        catch
        {
            _lifetime.Dispose();
            throw;
        }
    }

    internal RocksDb Owner { get; }

    internal Snapshot Inner { get; }

    /// <summary>Read options bound to this snapshot, shared by all point reads through it.</summary>
    internal ReadOptions ReadOptions { get; }

    internal NativeLifetime Lifetime => _lifetime;

    public void Dispose()
    {
        _disposed = true;
        Owner.Unregister(this);
        _readOptionsLifetime.Dispose();
        _lifetime.Dispose();
    }

    /// <summary>Holds the snapshot (and its read options) for a read; nothing when null.</summary>
    /// <exception cref="ObjectDisposedException">The snapshot is released.</exception>
    internal static NativeLifetime.Lease Hold(RocksSnapshot? snapshot)
    {
        if (snapshot is null)
        {
            return default;
        }

        ObjectDisposedException.ThrowIf(snapshot._disposed, snapshot);
        return snapshot._readOptionsLifetime.Acquire();
    }
}
