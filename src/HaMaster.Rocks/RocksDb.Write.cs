using RocksDbSharp;

namespace HaMaster.Rocks;

// Single writes and atomic batches.
public sealed partial class RocksDb
{
    /// <summary>Writes one key. <paramref name="sync"/> fsyncs the WAL before returning.</summary>
    public void Put(ReadOnlySpan<byte> key, ReadOnlySpan<byte> value, ColumnFamily? cf = null, bool sync = false)
    {
        using var db = Lease();
        var family = Family(cf);
        try
        {
            _db.Put(key, value, family, SharedOptions.Write(sync, disableWal: false));
        }
        catch (RocksDbSharpException e)
        {
            throw RocksDbException.From(e, "put", Path);
        }
    }

    /// <summary>Deletes one key (a no-op when absent).</summary>
    public void Delete(ReadOnlySpan<byte> key, ColumnFamily? cf = null, bool sync = false)
    {
        using var db = Lease();
        var family = Family(cf);
        try
        {
            _db.Remove(key, family, SharedOptions.Write(sync, disableWal: false));
        }
        catch (RocksDbSharpException e)
        {
            throw RocksDbException.From(e, "delete", Path);
        }
    }

    /// <summary>Deletes every key in [begin, end) with one range tombstone.</summary>
    public void DeleteRange(ReadOnlySpan<byte> beginInclusive, ReadOnlySpan<byte> endExclusive, ColumnFamily? cf = null)
    {
        ThrowIfDisposed();
        using var batch = new WriteBatch();
        batch.DeleteRange(beginInclusive, endExclusive, cf ?? DefaultColumnFamily);
        Write(batch);
    }

    /// <summary>
    /// Applies a batch atomically (all of it or none, across column families).
    /// <paramref name="sync"/> fsyncs the WAL first; <paramref name="disableWal"/> skips the WAL
    /// (the batch is then lost on a crash before the next flush).
    /// </summary>
    public void Write(WriteBatch batch, bool sync = false, bool disableWal = false)
    {
        ArgumentNullException.ThrowIfNull(batch);
        using var db = Lease();
        if (batch.Database is { } other && !ReferenceEquals(other, this))
        {
            throw new ArgumentException($"The batch names column families of another database ({other.Path}).", nameof(batch));
        }

        using var held = batch.Lease();
        try
        {
            _db.Write(batch.Inner, SharedOptions.Write(sync, disableWal));
        }
        catch (RocksDbSharpException e)
        {
            throw RocksDbException.From(e, "write batch", Path);
        }
    }

    internal void ThrowIfDisposed() => ObjectDisposedException.ThrowIf(_disposed, this);
}
