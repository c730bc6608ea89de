using HaMaster.Rocks.Lifetime;
using RocksDbSharp;

namespace HaMaster.Rocks;

/// <summary>
/// A cursor over one column family, optionally at a snapshot and within bounds.
/// Not thread-safe: use from one thread at a time. <see cref="Key"/> and <see cref="Value"/>
/// point into RocksDB's memory and stay valid only until the next move or Dispose.
/// After a move that leaves the iterator invalid, call <see cref="ThrowIfError"/> to tell
/// "end of data" from an I/O or corruption error.
/// </summary>
public sealed class RocksIterator : IDisposable
{
    private readonly RocksDb _owner;
    private readonly Iterator _iterator;
    private readonly NativeLifetime _lifetime;
    private bool _valid;
    private bool _disposed;

    internal RocksIterator(RocksDb owner, Iterator iterator, NativeLifetime readOptions)
    {
        _owner = owner;
        _iterator = iterator;
        try
        {
            // The native iterator reads its database, read options (bounds) and snapshot: all stay alive until it is freed.
            _lifetime = new NativeLifetime(iterator.Dispose, owner.Lifetime, readOptions);
        }
        catch
        {
            iterator.Dispose();
            throw;
        }
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
            using var lease = Lease();
            return _iterator.GetKeySpan();
        }
    }

    /// <summary>The current value, without copying.</summary>
    /// <exception cref="InvalidOperationException">Not positioned on an entry.</exception>
    public ReadOnlySpan<byte> Value
    {
        get
        {
            ThrowIfNotValid();
            using var lease = Lease();
            return _iterator.GetValueSpan();
        }
    }

    public void SeekToFirst()
    {
        using var lease = Lease();
        _iterator.SeekToFirst();
        Refresh();
    }

    public void SeekToLast()
    {
        using var lease = Lease();
        _iterator.SeekToLast();
        Refresh();
    }

    /// <summary>Positions on the first key at or after <paramref name="key"/>.</summary>
    public void Seek(ReadOnlySpan<byte> key)
    {
        using var lease = Lease();
        _iterator.Seek(key);
        Refresh();
    }

    /// <summary>Positions on the last key at or before <paramref name="key"/>.</summary>
    public void SeekForPrev(ReadOnlySpan<byte> key)
    {
        using var lease = Lease();
        _iterator.SeekForPrev(key);
        Refresh();
    }

    public void Next()
    {
        ThrowIfNotValid();
        using var lease = Lease();
        _iterator.Next();
        Refresh();
    }

    public void Prev()
    {
        ThrowIfNotValid();
        using var lease = Lease();
        _iterator.Prev();
        Refresh();
    }

    /// <summary>Throws <see cref="RocksDbException"/> when the iterator stopped on an error (corruption, I/O).</summary>
    public void ThrowIfError()
    {
        using var lease = Lease();
        try
        {
            // Iterator has no managed status accessor; RocksDbSharp's C API surface throws on an error status.
            Native.Instance.rocksdb_iter_get_error(_iterator.Handle);
        }
        catch (RocksDbSharpException e)
        {
            throw RocksDbException.From(e, "iterate", _owner.Path);
        }
    }

    public void Dispose()
    {
        _valid = false;
        _disposed = true;
        _owner.Unregister(this);
        _lifetime.Dispose();
    }

    private NativeLifetime.Lease Lease()
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        return _lifetime.Acquire();
    }

    private void Refresh() => _valid = _iterator.Valid();

    // Reading the key of, or moving, an unpositioned iterator is undefined behaviour in RocksDB
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
