using HaMaster.Rocks.Native;

namespace HaMaster.Rocks;

/// <summary>
/// An open RocksDB database with its column families.
/// </summary>
/// <remarks>
/// Thread-safety: every member is safe to call concurrently (RocksDB is thread-safe for reads,
/// writes and maintenance). Disposing while other threads are inside a call is safe: the native
/// close is deferred until they return, and later calls throw <see cref="ObjectDisposedException"/>.
/// Dispose also disposes the iterators and snapshots still open on this database; write batches
/// are independent native objects and are not touched. Iterators and write batches themselves
/// are not thread-safe (one thread at a time).
/// </remarks>
public sealed partial class RocksDb : IDisposable
{
    /// <summary>Name of the column family every database has.</summary>
    public const string DefaultColumnFamilyName = "default";

    private readonly DbHandle _db;
    private readonly CacheHandle? _cache;
    private readonly Dictionary<string, ColumnFamily> _columnFamilies;
    private readonly ColumnFamily[] _columnFamilyList;
    private readonly ReadOptionsHandle _readOptions;
    private readonly WriteOptionsHandle[] _writeOptions; // index: (sync ? 1 : 0) | (disableWal ? 2 : 0)
    private readonly Lock _gate = new();
    private readonly HashSet<IDisposable> _children = [];
    private volatile bool _disposed;

    private RocksDb(string path, DbHandle db, CacheHandle? cache, string[] names, ColumnFamilyHandle[] handles, ReadOptionsHandle readOptions, WriteOptionsHandle[] writeOptions)
    {
        Path = path;
        _db = db;
        _cache = cache;
        _readOptions = readOptions;
        _writeOptions = writeOptions;
        _columnFamilies = new Dictionary<string, ColumnFamily>(StringComparer.Ordinal);
        _columnFamilyList = new ColumnFamily[names.Length];
        for (var i = 0; i < names.Length; i++)
        {
            var cf = new ColumnFamily(this, names[i], handles[i]);
            _columnFamilies.Add(names[i], cf);
            _columnFamilyList[i] = cf;
        }

        DefaultColumnFamily = _columnFamilies[DefaultColumnFamilyName];
    }

    /// <summary>The absolute directory of the database.</summary>
    public string Path { get; }

    /// <summary>The "default" column family (used when a <c>cf</c> argument is null).</summary>
    public ColumnFamily DefaultColumnFamily { get; }

    /// <summary>Every open column family, "default" first.</summary>
    public IReadOnlyList<ColumnFamily> ColumnFamilies => _columnFamilyList;

    /// <summary>Returns the named column family.</summary>
    /// <exception cref="KeyNotFoundException">The database was not opened with that column family.</exception>
    public ColumnFamily GetColumnFamily(string name)
    {
        ArgumentNullException.ThrowIfNull(name);
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (_columnFamilies.TryGetValue(name, out var cf))
        {
            return cf;
        }

        throw new KeyNotFoundException(
            $"Column family '{name}' is not open in RocksDB at {Path} (open: {string.Join(", ", _columnFamilies.Keys)}); pass it to RocksDb.Open to create it.");
    }

    /// <summary>True when the database has the named column family open.</summary>
    public bool HasColumnFamily(string name) => _columnFamilies.ContainsKey(name);

    /// <summary>Closes the database (after any call in flight on another thread returns). Idempotent.</summary>
    public void Dispose()
    {
        IDisposable[] children;
        lock (_gate)
        {
            if (_disposed)
            {
                return;
            }

            _disposed = true;
            children = [.. _children];
            _children.Clear();
        }

        foreach (var child in children)
        {
            child.Dispose();
        }

        // Column families, shared options and the cache are owned by the handle and freed with it.
        _db.Dispose();
    }

    public override string ToString() => $"RocksDb({Path})";

    internal DbHandle Handle => _db;

    /// <summary>Registers an iterator or snapshot to be disposed with this database.</summary>
    internal void Register(IDisposable child)
    {
        lock (_gate)
        {
            if (_disposed)
            {
                child.Dispose();
                ObjectDisposedException.ThrowIf(true, this);
            }

            _children.Add(child);
        }
    }

    internal void Unregister(IDisposable child)
    {
        lock (_gate)
        {
            _children.Remove(child);
        }
    }

    /// <summary>
    /// Holds the database open for a scope. Column family pointers and the shared read/write
    /// option pointers are valid while the lease is held (the database handle owns them).
    /// </summary>
    internal HandleLease Lease()
    {
        ThrowIfDisposed();
        return new HandleLease(_db);
    }

    /// <summary>The native column family pointer; valid only under a <see cref="Lease"/>.</summary>
    private nint ColumnFamilyPointer(ColumnFamily? cf)
    {
        if (cf is null)
        {
            return DefaultColumnFamily.Handle.DangerousGetHandle();
        }

        if (!ReferenceEquals(cf.Owner, this))
        {
            throw new ArgumentException($"Column family '{cf.Name}' belongs to another database ({cf.Owner.Path}).", nameof(cf));
        }

        return cf.Handle.DangerousGetHandle();
    }

    /// <summary>Read options for a read: the shared ones, or the snapshot's (which the caller must lease).</summary>
    private ReadOptionsHandle ReadOptionsFor(RocksSnapshot? snapshot)
    {
        if (snapshot is null)
        {
            return _readOptions;
        }

        if (!ReferenceEquals(snapshot.Owner, this))
        {
            throw new ArgumentException("The snapshot belongs to another database.", nameof(snapshot));
        }

        ObjectDisposedException.ThrowIf(snapshot.IsDisposed, snapshot);
        return snapshot.ReadOptions;
    }

    /// <summary>The native write options pointer; valid only under a <see cref="Lease"/>.</summary>
    private nint WriteOptionsPointer(bool sync, bool disableWal) => _writeOptions[(sync ? 1 : 0) | (disableWal ? 2 : 0)].DangerousGetHandle();

    internal void ThrowIfDisposed() => ObjectDisposedException.ThrowIf(_disposed, this);
}
