using System.Globalization;
using RocksDbSharp;

namespace HaMaster.Rocks;

// Checkpoints, flush, compaction, properties.
public sealed partial class RocksDb
{
    /// <summary>
    /// Writes a consistent, openable copy of the database into <paramref name="directory"/>,
    /// which must not exist yet (RocksDB's rule); its parent is created when missing. SST files
    /// are hard-linked when on the same file system. Memtables are flushed first unless the
    /// write-ahead log is smaller than <paramref name="walBytesWithoutFlush"/>: then the WAL is
    /// copied into the checkpoint instead (replayed when it is opened), which avoids a flush that
    /// can take a long time on a busy disk. 0 (default) always flushes.
    /// </summary>
    public void CreateCheckpoint(string directory, ulong walBytesWithoutFlush = 0)
    {
        ArgumentException.ThrowIfNullOrEmpty(directory);
        using var db = Lease();
        var fullPath = System.IO.Path.GetFullPath(directory);
        var parent = System.IO.Path.GetDirectoryName(fullPath.TrimEnd(System.IO.Path.DirectorySeparatorChar));
        if (!string.IsNullOrEmpty(parent))
        {
            Directory.CreateDirectory(parent);
        }

        try
        {
            using var checkpoint = _db.Checkpoint();
            checkpoint.Save(fullPath, walBytesWithoutFlush);
        }
        catch (RocksDbSharpException e)
        {
            throw RocksDbException.From(e, "checkpoint", fullPath);
        }
    }

    /// <summary>Flushes the memtables of every column family to SST files.</summary>
    public void Flush(bool wait = true)
    {
        foreach (var cf in _columnFamilies.All)
        {
            Flush(cf, wait);
        }
    }

    /// <summary>Flushes one column family's memtable.</summary>
    public void Flush(ColumnFamily cf, bool wait = true)
    {
        ArgumentNullException.ThrowIfNull(cf);
        using var db = Lease();
        var family = Family(cf);
        try
        {
            // RocksDb.Flush flushes "default" only; the per-family call is on RocksDbSharp's C API surface.
            Native.Instance.rocksdb_flush_cf(_db.Handle, SharedOptions.Flush(wait).Handle, family.Handle);
        }
        catch (RocksDbSharpException e)
        {
            throw RocksDbException.From(e, "flush", Path);
        }
    }

    /// <summary>Compacts [begin, end] of a column family (null bounds = open ends), blocking until done.</summary>
    public void CompactRange(ColumnFamily? cf = null, byte[]? begin = null, byte[]? end = null)
    {
        using var db = Lease();
        _db.CompactRange(begin, end, Family(cf));
    }

    /// <summary>Reads a RocksDB property (see <see cref="RocksProperties"/>); null when unknown.</summary>
    public string? GetProperty(string name, ColumnFamily? cf = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        using var db = Lease();
        return _db.GetProperty(name, Family(cf));
    }

    /// <summary>Reads a numeric RocksDB property; null when unknown or not a number.</summary>
    public long? GetLongProperty(string name, ColumnFamily? cf = null)
        => ulong.TryParse(GetProperty(name, cf), NumberStyles.None, CultureInfo.InvariantCulture, out var value)
            ? (long)Math.Min(value, long.MaxValue)
            : null;

    /// <summary>Bytes currently held by the block cache (0 when the cache is disabled).</summary>
    public long BlockCacheUsage
    {
        get
        {
            using var db = Lease();
            return _cache is null ? 0 : (long)_cache.GetUsage();
        }
    }
}
