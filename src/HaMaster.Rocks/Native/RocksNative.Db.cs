using System.Runtime.InteropServices;

namespace HaMaster.Rocks.Native;

// Database lifetime, point reads and writes, snapshots, checkpoints, maintenance.
internal static unsafe partial class RocksNative
{
    [LibraryImport(Library)]
    internal static partial void rocksdb_free(nint ptr);

    [LibraryImport(Library, StringMarshalling = StringMarshalling.Utf8)]
    internal static partial nint rocksdb_open_column_families(OptionsHandle options, string name, int count, nint* names, nint* cfOptions, nint* cfHandles, nint* errptr);

    [LibraryImport(Library, StringMarshalling = StringMarshalling.Utf8)]
    internal static partial nint* rocksdb_list_column_families(OptionsHandle options, string name, nuint* count, nint* errptr);

    [LibraryImport(Library)]
    internal static partial void rocksdb_list_column_families_destroy(nint* list, nuint count);

    [LibraryImport(Library)]
    internal static partial void rocksdb_close(nint db);

    [LibraryImport(Library)]
    internal static partial void rocksdb_column_family_handle_destroy(nint cf);

    [LibraryImport(Library)]
    internal static partial void rocksdb_put_cf(nint db, nint options, nint cf, byte* key, nuint keyLength, byte* value, nuint valueLength, nint* errptr);

    [LibraryImport(Library)]
    internal static partial void rocksdb_delete_cf(nint db, nint options, nint cf, byte* key, nuint keyLength, nint* errptr);

    [LibraryImport(Library)]
    internal static partial void rocksdb_delete_range_cf(nint db, nint options, nint cf, byte* begin, nuint beginLength, byte* end, nuint endLength, nint* errptr);

    [LibraryImport(Library)]
    internal static partial void rocksdb_write(nint db, nint options, WriteBatchHandle batch, nint* errptr);

    [LibraryImport(Library)]
    internal static partial nint rocksdb_get_pinned_cf(nint db, nint options, nint cf, byte* key, nuint keyLength, nint* errptr);

    [LibraryImport(Library)]
    internal static partial void rocksdb_pinnableslice_destroy(nint slice);

    [LibraryImport(Library)]
    [SuppressGCTransition] // a field read: no blocking, no callbacks, no allocation
    internal static partial byte* rocksdb_pinnableslice_value(nint slice, nuint* length);

    [LibraryImport(Library)]
    internal static partial void rocksdb_multi_get_cf(nint db, nint options, nint* cfs, nuint count, nint* keys, nuint* keyLengths, nint* values, nuint* valueLengths, nint* errs);

    [LibraryImport(Library)]
    internal static partial nint rocksdb_create_snapshot(DbHandle db);

    [LibraryImport(Library)]
    internal static partial void rocksdb_release_snapshot(nint db, nint snapshot);

    [LibraryImport(Library)]
    internal static partial nint rocksdb_checkpoint_object_create(DbHandle db, nint* errptr);

    [LibraryImport(Library, StringMarshalling = StringMarshalling.Utf8)]
    internal static partial void rocksdb_checkpoint_create(CheckpointHandle checkpoint, string directory, ulong logSizeForFlush, nint* errptr);

    [LibraryImport(Library)]
    internal static partial void rocksdb_checkpoint_object_destroy(nint checkpoint);

    [LibraryImport(Library)]
    internal static partial nint rocksdb_flushoptions_create();

    [LibraryImport(Library)]
    internal static partial void rocksdb_flushoptions_destroy(nint options);

    [LibraryImport(Library)]
    internal static partial void rocksdb_flushoptions_set_wait(FlushOptionsHandle options, byte wait);

    [LibraryImport(Library)]
    internal static partial void rocksdb_flush_cf(nint db, FlushOptionsHandle options, nint cf, nint* errptr);

    [LibraryImport(Library)]
    internal static partial void rocksdb_compact_range_cf(nint db, nint cf, byte* begin, nuint beginLength, byte* end, nuint endLength);

    [LibraryImport(Library, StringMarshalling = StringMarshalling.Utf8)]
    internal static partial nint rocksdb_property_value_cf(nint db, nint cf, string name);

    [LibraryImport(Library, StringMarshalling = StringMarshalling.Utf8)]
    internal static partial int rocksdb_property_int_cf(nint db, nint cf, string name, ulong* value);
}
