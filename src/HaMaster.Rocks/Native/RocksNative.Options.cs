using System.Runtime.InteropServices;

namespace HaMaster.Rocks.Native;

// Options, table options, cache, filter policy, prefix extractor, read/write options.
// Ownership (c.cc of RocksDB 7.8): set_filter_policy and set_prefix_extractor take ownership of
// their argument; set_block_based_table_factory and set_block_cache copy (shared_ptr), so the
// table options and cache wrappers are still ours to destroy.
internal static unsafe partial class RocksNative
{
    [LibraryImport(Library)]
    internal static partial nint rocksdb_options_create();

    [LibraryImport(Library)]
    internal static partial void rocksdb_options_destroy(nint options);

    [LibraryImport(Library)]
    internal static partial void rocksdb_options_set_create_if_missing(OptionsHandle options, byte value);

    [LibraryImport(Library)]
    internal static partial void rocksdb_options_set_create_missing_column_families(OptionsHandle options, byte value);

    [LibraryImport(Library)]
    internal static partial void rocksdb_options_set_max_open_files(OptionsHandle options, int value);

    [LibraryImport(Library)]
    internal static partial void rocksdb_options_set_write_buffer_size(OptionsHandle options, nuint value);

    [LibraryImport(Library)]
    internal static partial void rocksdb_options_set_compression(OptionsHandle options, int value);

    [LibraryImport(Library)]
    internal static partial void rocksdb_options_set_max_background_jobs(OptionsHandle options, int value);

    [LibraryImport(Library)]
    internal static partial void rocksdb_options_set_paranoid_checks(OptionsHandle options, byte value);

    [LibraryImport(Library)]
    internal static partial void rocksdb_options_set_memtable_prefix_bloom_size_ratio(OptionsHandle options, double ratio);

    [LibraryImport(Library)]
    internal static partial void rocksdb_options_set_memtable_whole_key_filtering(OptionsHandle options, byte value);

    [LibraryImport(Library)]
    internal static partial void rocksdb_options_set_keep_log_file_num(OptionsHandle options, nuint value);

    [LibraryImport(Library)]
    internal static partial void rocksdb_options_set_prefix_extractor(OptionsHandle options, nint transform);

    [LibraryImport(Library)]
    internal static partial nint rocksdb_slicetransform_create_fixed_prefix(nuint length);

    [LibraryImport(Library)]
    internal static partial void rocksdb_options_set_block_based_table_factory(OptionsHandle options, BlockBasedOptionsHandle table);

    [LibraryImport(Library)]
    internal static partial nint rocksdb_block_based_options_create();

    [LibraryImport(Library)]
    internal static partial void rocksdb_block_based_options_destroy(nint table);

    [LibraryImport(Library)]
    internal static partial void rocksdb_block_based_options_set_block_cache(BlockBasedOptionsHandle table, CacheHandle cache);

    [LibraryImport(Library)]
    internal static partial void rocksdb_block_based_options_set_no_block_cache(BlockBasedOptionsHandle table, byte value);

    [LibraryImport(Library)]
    internal static partial void rocksdb_block_based_options_set_filter_policy(BlockBasedOptionsHandle table, nint policy);

    [LibraryImport(Library)]
    internal static partial nint rocksdb_filterpolicy_create_bloom_full(double bitsPerKey);

    [LibraryImport(Library)]
    internal static partial nint rocksdb_cache_create_lru(nuint capacity);

    [LibraryImport(Library)]
    internal static partial void rocksdb_cache_destroy(nint cache);

    [LibraryImport(Library)]
    internal static partial nuint rocksdb_cache_get_usage(CacheHandle cache);

    [LibraryImport(Library)]
    internal static partial nint rocksdb_readoptions_create();

    [LibraryImport(Library)]
    internal static partial void rocksdb_readoptions_destroy(nint options);

    [LibraryImport(Library)]
    internal static partial void rocksdb_readoptions_set_snapshot(ReadOptionsHandle options, SnapshotHandle snapshot);

    [LibraryImport(Library)]
    internal static partial void rocksdb_readoptions_set_iterate_lower_bound(ReadOptionsHandle options, byte* key, nuint length);

    [LibraryImport(Library)]
    internal static partial void rocksdb_readoptions_set_iterate_upper_bound(ReadOptionsHandle options, byte* key, nuint length);

    [LibraryImport(Library)]
    internal static partial void rocksdb_readoptions_set_prefix_same_as_start(ReadOptionsHandle options, byte value);

    [LibraryImport(Library)]
    internal static partial void rocksdb_readoptions_set_total_order_seek(ReadOptionsHandle options, byte value);

    [LibraryImport(Library)]
    internal static partial nint rocksdb_writeoptions_create();

    [LibraryImport(Library)]
    internal static partial void rocksdb_writeoptions_destroy(nint options);

    [LibraryImport(Library)]
    internal static partial void rocksdb_writeoptions_set_sync(WriteOptionsHandle options, byte value);

    [LibraryImport(Library)]
    internal static partial void rocksdb_writeoptions_disable_WAL(WriteOptionsHandle options, int value);
}
