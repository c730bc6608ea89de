using System.Runtime.InteropServices;

namespace HaMaster.Rocks.Native;

// Iterators and write batches: the per-item hot paths.
internal static unsafe partial class RocksNative
{
    [LibraryImport(Library)]
    internal static partial nint rocksdb_create_iterator_cf(nint db, nint options, nint cf);

    [LibraryImport(Library)]
    internal static partial void rocksdb_iter_destroy(nint iterator);

    [LibraryImport(Library)]
    [SuppressGCTransition] // a field read: no blocking, no callbacks, no allocation
    internal static partial byte rocksdb_iter_valid(IteratorHandle iterator);

    [LibraryImport(Library)]
    internal static partial void rocksdb_iter_seek_to_first(IteratorHandle iterator);

    [LibraryImport(Library)]
    internal static partial void rocksdb_iter_seek_to_last(IteratorHandle iterator);

    [LibraryImport(Library)]
    internal static partial void rocksdb_iter_seek(IteratorHandle iterator, byte* key, nuint length);

    [LibraryImport(Library)]
    internal static partial void rocksdb_iter_seek_for_prev(IteratorHandle iterator, byte* key, nuint length);

    [LibraryImport(Library)]
    internal static partial void rocksdb_iter_next(IteratorHandle iterator);

    [LibraryImport(Library)]
    internal static partial void rocksdb_iter_prev(IteratorHandle iterator);

    [LibraryImport(Library)]
    [SuppressGCTransition] // a field read: no blocking, no callbacks, no allocation
    internal static partial byte* rocksdb_iter_key(IteratorHandle iterator, nuint* length);

    [LibraryImport(Library)]
    [SuppressGCTransition] // a field read: no blocking, no callbacks, no allocation
    internal static partial byte* rocksdb_iter_value(IteratorHandle iterator, nuint* length);

    [LibraryImport(Library)]
    internal static partial void rocksdb_iter_get_error(IteratorHandle iterator, nint* errptr);

    [LibraryImport(Library)]
    internal static partial nint rocksdb_writebatch_create();

    [LibraryImport(Library)]
    internal static partial void rocksdb_writebatch_destroy(nint batch);

    [LibraryImport(Library)]
    internal static partial void rocksdb_writebatch_clear(WriteBatchHandle batch);

    [LibraryImport(Library)]
    [SuppressGCTransition] // a field read: no blocking, no callbacks, no allocation
    internal static partial int rocksdb_writebatch_count(WriteBatchHandle batch);

    [LibraryImport(Library)]
    internal static partial void rocksdb_writebatch_put_cf(WriteBatchHandle batch, nint cf, byte* key, nuint keyLength, byte* value, nuint valueLength);

    [LibraryImport(Library)]
    internal static partial void rocksdb_writebatch_put(WriteBatchHandle batch, byte* key, nuint keyLength, byte* value, nuint valueLength);

    [LibraryImport(Library)]
    internal static partial void rocksdb_writebatch_delete_cf(WriteBatchHandle batch, nint cf, byte* key, nuint keyLength);

    [LibraryImport(Library)]
    internal static partial void rocksdb_writebatch_delete(WriteBatchHandle batch, byte* key, nuint keyLength);

    [LibraryImport(Library)]
    internal static partial void rocksdb_writebatch_delete_range_cf(WriteBatchHandle batch, nint cf, byte* begin, nuint beginLength, byte* end, nuint endLength);

    [LibraryImport(Library)]
    internal static partial void rocksdb_writebatch_delete_range(WriteBatchHandle batch, byte* begin, nuint beginLength, byte* end, nuint endLength);
}
