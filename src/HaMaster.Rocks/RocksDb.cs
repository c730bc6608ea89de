using HaMaster.Rocks.Lifetime;
using RocksDbSharp;
using SharpDb = RocksDbSharp.RocksDb;

namespace HaMaster.Rocks;

/// <summary>
/// An open RocksDB database with its column families: a thin layer over RocksDbSharp's
/// <see cref="SharpDb"/> that opens every column family by name with one options record, makes
/// Dispose safe against calls in flight, and reports failures with the operation and path.
/// </summary>
/// <remarks>
/// Thread-safety: every member is safe to call concurrently (RocksDB is thread-safe for reads,
/// writes and maintenance). Disposing while other threads are inside a call is safe: the native
/// close is deferred until they return, and later calls throw <see cref="ObjectDisposedException"/>.
/// Dispose also disposes the iterators and snapshots still open on this database; write batches
/// are independent objects and are not touched. Iterators and write batches themselves are not
/// thread-safe (one thread at a time).
/// </remarks>
public sealed partial class RocksDb : IDisposable
{
    /// <summary>Name of the column family every database has.</summary>
    public const string DefaultColumnFamilyName = "default";

    private readonly SharpDb _db;
    private readonly NativeLifetime _lifetime;
    private readonly Cache? _cache;
    private readonly ColumnFamilySet _columnFamilies;
    private readonly OpenChildren _children = new();
    private volatile bool _disposed;

    private RocksDb(string path, SharpDb db, Cache? cache, string[] names)
    {
        Path = path;
        _db = db;
        _cache = cache;

        // Only our lifetime closes the database: RocksDbSharp's finalizer would close it when both
        // are unreachable, possibly before the critical finalizers of iterators still open on it.
#pragma warning disable CA1816 // deliberately another object's finalizer
        GC.SuppressFinalize(db);
#pragma warning restore CA1816
        _lifetime = new NativeLifetime(Close);
        _columnFamilies = new ColumnFamilySet(this, db, names);
    }

    /// <summary>The absolute directory of the database.</summary>
    public string Path { get; }

    /// <summary>The "default" column family (used when a <c>cf</c> argument is null).</summary>
    public ColumnFamily DefaultColumnFamily => _columnFamilies.Default;

    /// <summary>Every open column family, "default" first.</summary>
    public IReadOnlyList<ColumnFamily> ColumnFamilies => _columnFamilies.All;

    /// <summary>Returns the named column family.</summary>
    /// <exception cref="KeyNotFoundException">The database was not opened with that column family.</exception>
    public ColumnFamily GetColumnFamily(string name)
    {
        ArgumentNullException.ThrowIfNull(name);
        ObjectDisposedException.ThrowIf(_disposed, this);
        return _columnFamilies.Get(name);
    }

    /// <summary>True when the database has the named column family open.</summary>
    public bool HasColumnFamily(string name) => _columnFamilies.Contains(name);

    /// <summary>Closes the database (after any call in flight on another thread returns). Idempotent.</summary>
    public void Dispose()
    {
        if (_children.Close() is not { } children)
        {
            return;
        }

        _disposed = true;
        foreach (var child in children)
        {
            child.Dispose();
        }

        _lifetime.Dispose();
    }

    public override string ToString() => $"RocksDb({Path})";

    /// <summary>Holds the database open for a scope (RocksDbSharp's handles are valid while it is held).</summary>
    /// <exception cref="ObjectDisposedException">The database is disposed.</exception>
    internal NativeLifetime.Lease Lease()
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        try
        {
            return _lifetime.Acquire();
        }
        catch (ObjectDisposedException)
        {
            throw new ObjectDisposedException(ToString());
        }
    }

    internal NativeLifetime Lifetime => _lifetime;

    internal SharpDb Inner => _db;

    /// <summary>Registers an iterator or snapshot to be disposed with this database.</summary>
    internal void Register(IDisposable child)
    {
        if (!_children.TryAdd(child))
        {
            child.Dispose();
            throw new ObjectDisposedException(ToString());
        }
    }

    internal void Unregister(IDisposable child) => _children.Remove(child);

    /// <summary>RocksDbSharp's handle of <paramref name="cf"/> (default when null); checks it belongs here.</summary>
    private ColumnFamilyHandle Family(ColumnFamily? cf) => _columnFamilies.HandleOf(cf);

    /// <summary>Read options for a point read: the shared ones, or the snapshot's.</summary>
    private ReadOptions ReadOptionsFor(RocksSnapshot? snapshot)
    {
        if (snapshot is null)
        {
            return s_readOptions;
        }

        if (!ReferenceEquals(snapshot.Owner, this))
        {
            throw new ArgumentException("The snapshot belongs to another database.", nameof(snapshot));
        }

        return snapshot.ReadOptions;
    }

    // Runs once, after the last lease (iterators and snapshots hold one until disposed).
    private void Close()
    {
        _db.Dispose(); // column family handles, then the database
        if (_cache is not null)
        {
            NativeOptions.ReleaseCache(_cache);
        }
    }
}
