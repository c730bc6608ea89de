using HaMaster.Rocks.Native;

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
    public unsafe void CreateCheckpoint(string directory, ulong walBytesWithoutFlush = 0)
    {
        ArgumentException.ThrowIfNullOrEmpty(directory);
        ThrowIfDisposed();
        var fullPath = System.IO.Path.GetFullPath(directory);
        var parent = System.IO.Path.GetDirectoryName(fullPath.TrimEnd(System.IO.Path.DirectorySeparatorChar));
        if (!string.IsNullOrEmpty(parent))
        {
            Directory.CreateDirectory(parent);
        }

        using var checkpoint = new CheckpointHandle(_db);
        nint error = 0;
        var pointer = RocksNative.rocksdb_checkpoint_object_create(_db, &error);
        RocksDbException.ThrowIfError(error, "checkpoint", Path);
        checkpoint.Attach(pointer, "checkpoint");
        RocksNative.rocksdb_checkpoint_create(checkpoint, fullPath, walBytesWithoutFlush, &error);
        RocksDbException.ThrowIfError(error, "checkpoint", fullPath);
    }

    /// <summary>Flushes the memtables of every column family to SST files.</summary>
    public void Flush(bool wait = true)
    {
        foreach (var cf in _columnFamilyList)
        {
            Flush(cf, wait);
        }
    }

    /// <summary>Flushes one column family's memtable.</summary>
    public unsafe void Flush(ColumnFamily cf, bool wait = true)
    {
        ArgumentNullException.ThrowIfNull(cf);
        using var db = Lease();
        var cfPointer = ColumnFamilyPointer(cf);
        using var options = new FlushOptionsHandle();
        options.Attach(RocksNative.rocksdb_flushoptions_create(), "create flush options");
        RocksNative.rocksdb_flushoptions_set_wait(options, wait ? (byte)1 : (byte)0);
        nint error = 0;
        RocksNative.rocksdb_flush_cf(db.Pointer, options, cfPointer, &error);
        RocksDbException.ThrowIfError(error, "flush", Path);
    }

    /// <summary>Compacts [begin, end] of a column family (null bounds = open ends), blocking until done.</summary>
    public unsafe void CompactRange(ColumnFamily? cf = null, byte[]? begin = null, byte[]? end = null)
    {
        using var db = Lease();
        var cfPointer = ColumnFamilyPointer(cf);
        fixed (byte* b = begin, e = end)
        {
            RocksNative.rocksdb_compact_range_cf(db.Pointer, cfPointer, b, (nuint)(begin?.Length ?? 0), e, (nuint)(end?.Length ?? 0));
        }
    }

    /// <summary>Reads a RocksDB property (see <see cref="RocksProperties"/>); null when unknown.</summary>
    public string? GetProperty(string name, ColumnFamily? cf = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        using var db = Lease();
        return RocksNative.TakeString(RocksNative.rocksdb_property_value_cf(db.Pointer, ColumnFamilyPointer(cf), name));
    }

    /// <summary>Reads a numeric RocksDB property; null when unknown or not a number.</summary>
    public unsafe long? GetLongProperty(string name, ColumnFamily? cf = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        ulong value;
        int status;
        using (var db = Lease())
        {
            status = RocksNative.rocksdb_property_int_cf(db.Pointer, ColumnFamilyPointer(cf), name, &value);
        }

        if (status == 0)
        {
            return value > long.MaxValue ? long.MaxValue : (long)value;
        }

        // Some numeric properties are only exposed as strings.
        return long.TryParse(GetProperty(name, cf), out var parsed) ? parsed : null;
    }

    /// <summary>Bytes currently held by the block cache (0 when the cache is disabled).</summary>
    public long BlockCacheUsage
    {
        get
        {
            ThrowIfDisposed();
            return _cache is null ? 0 : (long)RocksNative.rocksdb_cache_get_usage(_cache);
        }
    }
}

/// <summary>Names of RocksDB properties worth reading in a metadata store.</summary>
public static class RocksProperties
{
    public const string EstimateNumKeys = "rocksdb.estimate-num-keys";
    public const string CurSizeAllMemTables = "rocksdb.cur-size-all-mem-tables";
    public const string BlockCacheUsage = "rocksdb.block-cache-usage";
    public const string TotalSstFilesSize = "rocksdb.total-sst-files-size";
    public const string LiveSstFilesSize = "rocksdb.live-sst-files-size";
    public const string NumFilesAtLevel0 = "rocksdb.num-files-at-level0";
    public const string Stats = "rocksdb.stats";
}
