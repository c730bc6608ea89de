using HaMaster.Rocks.Native;

namespace HaMaster.Rocks;

/// <summary>
/// A cursor over one column family, optionally at a snapshot and within bounds.
/// Not thread-safe: use from one thread at a time. <see cref="Key"/> and <see cref="Value"/>
/// point into RocksDB's memory and stay valid only until the next move or Dispose.
/// After a move that leaves the iterator invalid, call <see cref="ThrowIfError"/> to tell
/// "end of data" from an I/O or corruption error.
/// </summary>
public sealed unsafe class RocksIterator : IDisposable
{
    private readonly RocksDb _owner;
    private readonly IteratorHandle _handle;
    private bool _valid;
    private bool _disposed;

    internal RocksIterator(RocksDb owner, IteratorHandle handle)
    {
        _owner = owner;
        _handle = handle;
    }

    /// <summary>True when positioned on an entry (cached after each move: no native call).</summary>
    public bool Valid => _valid;

    /// <summary>The current key, without copying.</summary>
    /// <exception cref="InvalidOperationException">Not positioned on an entry.</exception>
    public ReadOnlySpan<byte> Key
    {
        get
        {
            ThrowIfNotValid();
            nuint length;
            var key = RocksNative.rocksdb_iter_key(_handle, &length);
            return new ReadOnlySpan<byte>(key, checked((int)length));
        }
    }

    /// <summary>The current value, without copying.</summary>
    /// <exception cref="InvalidOperationException">Not positioned on an entry.</exception>
    public ReadOnlySpan<byte> Value
    {
        get
        {
            ThrowIfNotValid();
            nuint length;
            var value = RocksNative.rocksdb_iter_value(_handle, &length);
            return new ReadOnlySpan<byte>(value, checked((int)length));
        }
    }

    public void SeekToFirst()
    {
        RocksNative.rocksdb_iter_seek_to_first(_handle);
        Refresh();
    }

    public void SeekToLast()
    {
        RocksNative.rocksdb_iter_seek_to_last(_handle);
        Refresh();
    }

    /// <summary>Positions on the first key at or after <paramref name="key"/>.</summary>
    public void Seek(ReadOnlySpan<byte> key)
    {
        fixed (byte* k = key)
        {
            RocksNative.rocksdb_iter_seek(_handle, k, (nuint)key.Length);
        }

        Refresh();
    }

    /// <summary>Positions on the last key at or before <paramref name="key"/>.</summary>
    public void SeekForPrev(ReadOnlySpan<byte> key)
    {
        fixed (byte* k = key)
        {
            RocksNative.rocksdb_iter_seek_for_prev(_handle, k, (nuint)key.Length);
        }

        Refresh();
    }

    public void Next()
    {
        ThrowIfNotValid();
        RocksNative.rocksdb_iter_next(_handle);
        Refresh();
    }

    public void Prev()
    {
        ThrowIfNotValid();
        RocksNative.rocksdb_iter_prev(_handle);
        Refresh();
    }

    /// <summary>Throws <see cref="RocksDbException"/> when the iterator stopped on an error (rocksdb_iter_get_error).</summary>
    public void ThrowIfError()
    {
        nint error = 0;
        RocksNative.rocksdb_iter_get_error(_handle, &error);
        RocksDbException.ThrowIfError(error, "iterate", _owner.Path);
    }

    public void Dispose()
    {
        _valid = false;
        _disposed = true;
        _owner.Unregister(this);
        _handle.Dispose();
    }

    private void Refresh() => _valid = RocksNative.rocksdb_iter_valid(_handle) != 0;

    // Calling rocksdb_iter_key/next on an unpositioned iterator is undefined behaviour in RocksDB
    // (an assertion in debug builds): refuse it here instead.
    private void ThrowIfNotValid()
    {
        if (!_valid)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            throw new InvalidOperationException("The iterator is not positioned on an entry (check Valid after each move).");
        }
    }
}
