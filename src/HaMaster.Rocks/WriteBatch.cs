using HaMaster.Rocks.Native;

namespace HaMaster.Rocks;

/// <summary>
/// Writes collected in memory and applied atomically by <see cref="RocksDb.Write"/>, possibly
/// across column families. Not thread-safe. Reusable after <see cref="Clear"/>. The column
/// families used must belong to the database the batch is written to.
/// </summary>
public sealed unsafe class WriteBatch : IDisposable
{
    public WriteBatch()
    {
        RocksNative.EnsureLoaded();
        Handle = new WriteBatchHandle();
        Handle.Attach(RocksNative.rocksdb_writebatch_create(), "create write batch");
    }

    /// <summary>Number of operations in the batch.</summary>
    public int Count => RocksNative.rocksdb_writebatch_count(Handle);

    internal WriteBatchHandle Handle { get; }

    public void Put(ReadOnlySpan<byte> key, ReadOnlySpan<byte> value, ColumnFamily? cf = null)
    {
        fixed (byte* k = key, v = value)
        {
            if (cf is null)
            {
                RocksNative.rocksdb_writebatch_put(Handle, k, (nuint)key.Length, v, (nuint)value.Length);
            }
            else
            {
                using var db = Bind(cf);
                RocksNative.rocksdb_writebatch_put_cf(Handle, cf.Handle.DangerousGetHandle(), k, (nuint)key.Length, v, (nuint)value.Length);
            }
        }
    }

    public void Delete(ReadOnlySpan<byte> key, ColumnFamily? cf = null)
    {
        fixed (byte* k = key)
        {
            if (cf is null)
            {
                RocksNative.rocksdb_writebatch_delete(Handle, k, (nuint)key.Length);
            }
            else
            {
                using var db = Bind(cf);
                RocksNative.rocksdb_writebatch_delete_cf(Handle, cf.Handle.DangerousGetHandle(), k, (nuint)key.Length);
            }
        }
    }

    /// <summary>Deletes every key in [begin, end) when the batch is written.</summary>
    public void DeleteRange(ReadOnlySpan<byte> beginInclusive, ReadOnlySpan<byte> endExclusive, ColumnFamily? cf = null)
    {
        fixed (byte* b = beginInclusive, e = endExclusive)
        {
            if (cf is null)
            {
                RocksNative.rocksdb_writebatch_delete_range(Handle, b, (nuint)beginInclusive.Length, e, (nuint)endExclusive.Length);
            }
            else
            {
                using var db = Bind(cf);
                RocksNative.rocksdb_writebatch_delete_range_cf(Handle, cf.Handle.DangerousGetHandle(), b, (nuint)beginInclusive.Length, e, (nuint)endExclusive.Length);
            }
        }
    }

    /// <summary>Removes every operation, keeping the native buffer for reuse.</summary>
    public void Clear()
    {
        RocksNative.rocksdb_writebatch_clear(Handle);
        Database = null;
    }

    /// <summary>The database whose column families the batch names (null while it names only "default").</summary>
    internal RocksDb? Database { get; private set; }

    // Leases the column family's database for the call (the database owns the native column
    // family handle). A batch naming column families of two databases could only be applied
    // partially (RocksDB inserts into memtables in order and fails at the first unknown column
    // family id), so it is refused before anything reaches RocksDB.
    private HandleLease Bind(ColumnFamily cf)
    {
        if (Database is not null && !ReferenceEquals(Database, cf.Owner))
        {
            throw new ArgumentException($"Column family '{cf.Name}' belongs to {cf.Owner.Path}, but this batch already writes to {Database.Path}.", nameof(cf));
        }

        var lease = cf.Owner.Lease();
        Database = cf.Owner;
        return lease;
    }

    public void Dispose() => Handle.Dispose();
}
