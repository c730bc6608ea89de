using RocksDbSharp;

namespace HaMaster.Rocks;

/// <summary>
/// RocksDbSharp's native options built from one <see cref="RocksDbOptions"/> record, the block
/// cache they share, and the hint added to an open failure. Stateless; safe from any thread.
/// </summary>
internal static class NativeOptions
{
    /// <summary>Database-wide options (RocksDbSharp keeps them alive with the database).</summary>
    public static DbOptions CreateDbOptions(RocksDbOptions options)
    {
        var db = new DbOptions()
            .SetCreateIfMissing(options.CreateIfMissing)
            .SetCreateMissingColumnFamilies(true)
            .SetMaxOpenFiles(options.MaxOpenFiles)
            .SetParanoidChecks(options.ParanoidChecks)
            .SetKeepLogFileNum((ulong)options.KeepLogFiles);

        // No managed setter for max_background_jobs (only the older per-kind limits): RocksDbSharp's own C API surface.
        Native.Instance.rocksdb_options_set_max_background_jobs(db.Handle, options.MaxBackgroundJobs);
        return db;
    }

    /// <summary>Options of every column family: memtable, compression, table format, filters, block cache.</summary>
    public static ColumnFamilyOptions CreateColumnFamilyOptions(RocksDbOptions options, out Cache? cache)
    {
        var cf = new ColumnFamilyOptions()
            .SetWriteBufferSize((ulong)options.WriteBufferBytes)
            .SetCompression(options.Compression switch
            {
                RocksCompression.None => Compression.No,
                RocksCompression.Snappy => Compression.Snappy,
                RocksCompression.Lz4 => Compression.Lz4,
                RocksCompression.Zstd => Compression.Zstd,
                _ => throw new ArgumentOutOfRangeException(nameof(options), options.Compression, "unknown compression"),
            });
        if (options.MemtableBloomRatio > 0)
        {
            cf.SetMemtablePrefixBloomSizeRatio(options.MemtableBloomRatio);
            // Whole-key filtering in the memtable bloom has no managed setter either.
            Native.Instance.rocksdb_options_set_memtable_whole_key_filtering(cf.Handle, 1);
        }

        if (options.FixedPrefixLength is { } prefix)
        {
            cf.SetPrefixExtractor(SliceTransform.CreateFixedPrefix((ulong)prefix));
        }

        var table = new BlockBasedTableOptions().SetFormatVersion(options.SstFormatVersion);
        cache = null;
        if (options.BlockCacheBytes > 0)
        {
            cache = Cache.CreateLru((ulong)options.BlockCacheBytes);
#pragma warning disable CA1816 // freed by ReleaseCache, never by its finalizer
            GC.SuppressFinalize(cache);
#pragma warning restore CA1816
            table.SetBlockCache(cache);
            if (options.IndexAndFiltersInCache)
            {
                table.SetCacheIndexAndFilterBlocks(true);
                table.SetPinL0FilterAndIndexBlocksInCache(true);
                table.SetIndexType(BlockBasedTableIndexType.TwoLevelIndex);
                // No managed setters for these: RocksDbSharp's own C API surface.
                Native.Instance.rocksdb_block_based_options_set_partition_filters(table.Handle, 1);
                Native.Instance.rocksdb_block_based_options_set_pin_top_level_index_and_filter(table.Handle, 1);
                Native.Instance.rocksdb_block_based_options_set_cache_index_and_filter_blocks_with_high_priority(table.Handle, 1);
            }
        }
        else
        {
            table.SetNoBlockCache(true);
        }

        if (options.BloomBitsPerKey > 0)
        {
            table.SetFilterPolicy(BloomFilterPolicy.Create(options.BloomBitsPerKey, use_block_based_builder: false));
        }

        cf.SetBlockBasedTableFactory(table);
        return cf;
    }

    /// <summary>
    /// Frees our reference on the block cache now. RocksDbSharp's options objects (and the table
    /// factory sharing the cache) are freed only by their finalizers, so the cache is emptied first
    /// to give its memory back at close. Its own finalizer is suppressed when it is created: it
    /// could otherwise run before a database still using it is closed by ours.
    /// </summary>
    public static void ReleaseCache(Cache cache)
    {
        cache.SetCapacity(0);
        Native.Instance.rocksdb_cache_destroy(cache.Handle);
    }

    /// <summary>What to do about an open failure whose RocksDB message is <paramref name="message"/>; null when nothing useful is known.</summary>
    public static string? OpenHint(string message, RocksDbOptions options)
    {
        if (message.Contains("not linked with the binary", StringComparison.Ordinal))
        {
            return $"Compression {options.Compression} is not compiled into this librocksdb; choose another RocksDbOptions.Compression (RocksDb.IsCompressionSupported tells which are).";
        }

        if (message.Contains("LOCK", StringComparison.Ordinal))
        {
            return "Another RocksDb instance (in this or another process) has this database open.";
        }

        if (message.Contains("does not exist", StringComparison.Ordinal))
        {
            return "No database at this path (CreateIfMissing is false).";
        }

        return null;
    }
}
