using HaMaster.Rocks.Lifetime;
using SharpBatch = RocksDbSharp.WriteBatch;

namespace HaMaster.Rocks;

/// <summary>
/// Writes collected in memory and applied atomically by <see cref="RocksDb.Write"/>, possibly
/// across column families. Not thread-safe. Reusable after <see cref="Clear"/>. The column
/// families used must belong to the database the batch is written to.
/// </summary>
public sealed class WriteBatch : IDisposable
{
    private readonly SharpBatch _batch;
    private readonly NativeLifetime _lifetime;

    public WriteBatch()
    {
        RocksLibrary.EnsureLoaded();
        _batch = new SharpBatch();
        _lifetime = new NativeLifetime(_batch.Dispose);
    }

    /// <summary>Number of operations in the batch.</summary>
    public int Count
    {
        get
        {
            using var lease = Lease();
            return _batch.Count();
        }
    }

    /// <summary>The database whose column families the batch names (null while it names only "default").</summary>
    internal RocksDb? Database { get; private set; }

    internal SharpBatch Inner => _batch;

    public void Put(ReadOnlySpan<byte> key, ReadOnlySpan<byte> value, ColumnFamily? cf = null)
    {
        using var lease = Lease();
        using var db = Bind(cf);
        _batch.Put(key, value, cf?.Handle);
    }

    public void Delete(ReadOnlySpan<byte> key, ColumnFamily? cf = null)
    {
        using var lease = Lease();
        using var db = Bind(cf);
        _batch.Delete(key, cf?.Handle);
    }

    /// <summary>Deletes every key in [begin, end) when the batch is written.</summary>
    public unsafe void DeleteRange(ReadOnlySpan<byte> beginInclusive, ReadOnlySpan<byte> endExclusive, ColumnFamily? cf = null)
    {
        using var lease = Lease();
        using var db = Bind(cf);
        fixed (byte* b = beginInclusive, e = endExclusive)
        {
            _batch.DeleteRange(b, (ulong)beginInclusive.Length, e, (ulong)endExclusive.Length, cf?.Handle);
        }
    }

    /// <summary>Removes every operation, keeping the buffer for reuse.</summary>
    public void Clear()
    {
        using var lease = Lease();
        _batch.Clear();
        Database = null;
    }

    public void Dispose() => _lifetime.Dispose();

    /// <exception cref="ObjectDisposedException">The batch is disposed.</exception>
    internal NativeLifetime.Lease Lease()
    {
        try
        {
            return _lifetime.Acquire();
        }
        catch (ObjectDisposedException)
        {
            throw new ObjectDisposedException(nameof(WriteBatch));
        }
    }

    // Leases the column family's database for the call (the database owns the column family
    // handle). A batch naming column families of two databases could only be applied partially
    // (RocksDB inserts into memtables in order and fails at the first unknown column family id),
    // so it is refused before anything reaches RocksDB.
    private NativeLifetime.Lease Bind(ColumnFamily? cf)
    {
        if (cf is null)
        {
            return default;
        }

        if (Database is not null && !ReferenceEquals(Database, cf.Owner))
        {
            throw new ArgumentException($"Column family '{cf.Name}' belongs to {cf.Owner.Path}, but this batch already writes to {Database.Path}.", nameof(cf));
        }

        var lease = cf.Owner.Lease();
        Database = cf.Owner;
        return lease;
    }
}
