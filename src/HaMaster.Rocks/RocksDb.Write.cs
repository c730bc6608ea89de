using HaMaster.Rocks.Native;

namespace HaMaster.Rocks;

// Single writes and atomic batches.
public sealed partial class RocksDb
{
    /// <summary>Writes one key. <paramref name="sync"/> fsyncs the WAL before returning.</summary>
    public unsafe void Put(ReadOnlySpan<byte> key, ReadOnlySpan<byte> value, ColumnFamily? cf = null, bool sync = false)
    {
        using var db = Lease();
        var cfPointer = ColumnFamilyPointer(cf);
        nint error = 0;
        fixed (byte* k = key, v = value)
        {
            RocksNative.rocksdb_put_cf(db.Pointer, WriteOptionsPointer(sync, disableWal: false), cfPointer, k, (nuint)key.Length, v, (nuint)value.Length, &error);
        }

        RocksDbException.ThrowIfError(error, "put", Path);
    }

    /// <summary>Deletes one key (a no-op when absent).</summary>
    public unsafe void Delete(ReadOnlySpan<byte> key, ColumnFamily? cf = null, bool sync = false)
    {
        using var db = Lease();
        var cfPointer = ColumnFamilyPointer(cf);
        nint error = 0;
        fixed (byte* k = key)
        {
            RocksNative.rocksdb_delete_cf(db.Pointer, WriteOptionsPointer(sync, disableWal: false), cfPointer, k, (nuint)key.Length, &error);
        }

        RocksDbException.ThrowIfError(error, "delete", Path);
    }

    /// <summary>Deletes every key in [begin, end) with one range tombstone.</summary>
    public unsafe void DeleteRange(ReadOnlySpan<byte> beginInclusive, ReadOnlySpan<byte> endExclusive, ColumnFamily? cf = null)
    {
        using var db = Lease();
        var cfPointer = ColumnFamilyPointer(cf);
        nint error = 0;
        fixed (byte* b = beginInclusive, e = endExclusive)
        {
            RocksNative.rocksdb_delete_range_cf(db.Pointer, WriteOptionsPointer(sync: false, disableWal: false), cfPointer, b, (nuint)beginInclusive.Length, e, (nuint)endExclusive.Length, &error);
        }

        RocksDbException.ThrowIfError(error, "delete range", Path);
    }

    /// <summary>
    /// Applies a batch atomically (all of it or none, across column families).
    /// <paramref name="sync"/> fsyncs the WAL first; <paramref name="disableWal"/> skips the WAL
    /// (the batch is then lost on a crash before the next flush).
    /// </summary>
    public unsafe void Write(WriteBatch batch, bool sync = false, bool disableWal = false)
    {
        ArgumentNullException.ThrowIfNull(batch);
        using var db = Lease();
        if (batch.Database is { } other && !ReferenceEquals(other, this))
        {
            throw new ArgumentException($"The batch names column families of another database ({other.Path}).", nameof(batch));
        }

        nint error = 0;
        RocksNative.rocksdb_write(db.Pointer, WriteOptionsPointer(sync, disableWal), batch.Handle, &error);
        RocksDbException.ThrowIfError(error, "write batch", Path);
    }
}
