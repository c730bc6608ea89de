using System.Runtime.InteropServices;

namespace HaMaster.Rocks.Native;

// One SafeHandle type per native object kind, so a signature cannot mix them up.

/// <summary>
/// The database. It owns the column family handles, shared read/write options and block cache
/// of its <see cref="RocksDb"/>: they are freed (in reverse order of adoption) right before the
/// database closes, which happens only after the last lease, iterator and snapshot let go.
/// </summary>
internal sealed class DbHandle : RocksHandle
{
    private readonly List<SafeHandle> _owned = [];

    /// <summary>Adopts a handle to be freed with the database. Called only while opening (one thread).</summary>
    internal void Own(SafeHandle handle) => _owned.Add(handle);

    protected override void Free(nint pointer)
    {
        for (var i = _owned.Count - 1; i >= 0; i--)
        {
            _owned[i].Dispose();
        }

        RocksNative.rocksdb_close(pointer);
    }
}

/// <summary>
/// A reference on a handle for the length of a scope: the native object cannot be freed while
/// the lease is held. Throws <see cref="ObjectDisposedException"/> when the handle is already freed.
/// </summary>
internal readonly ref struct HandleLease
{
    private readonly SafeHandle _handle;

    internal HandleLease(SafeHandle handle)
    {
        var added = false;
        handle.DangerousAddRef(ref added);
        _handle = handle;
        Pointer = handle.DangerousGetHandle();
    }

    internal nint Pointer { get; }

    public void Dispose() => _handle.DangerousRelease();
}

internal sealed class OptionsHandle : RocksHandle
{
    protected override void Free(nint pointer) => RocksNative.rocksdb_options_destroy(pointer);
}

internal sealed class BlockBasedOptionsHandle : RocksHandle
{
    protected override void Free(nint pointer) => RocksNative.rocksdb_block_based_options_destroy(pointer);
}

internal sealed class CacheHandle : RocksHandle
{
    protected override void Free(nint pointer) => RocksNative.rocksdb_cache_destroy(pointer);
}

internal sealed class WriteOptionsHandle : RocksHandle
{
    protected override void Free(nint pointer) => RocksNative.rocksdb_writeoptions_destroy(pointer);
}

internal sealed class FlushOptionsHandle : RocksHandle
{
    protected override void Free(nint pointer) => RocksNative.rocksdb_flushoptions_destroy(pointer);
}

internal sealed class WriteBatchHandle : RocksHandle
{
    protected override void Free(nint pointer) => RocksNative.rocksdb_writebatch_destroy(pointer);
}

/// <summary>Read options; depends on the snapshot it reads at (if any).</summary>
internal sealed class ReadOptionsHandle(SnapshotHandle? snapshot = null) : RocksHandle(snapshot)
{
    protected override void Free(nint pointer) => RocksNative.rocksdb_readoptions_destroy(pointer);
}

/// <summary>A column family handle; owned (and destroyed before closing) by its <see cref="DbHandle"/>.</summary>
internal sealed class ColumnFamilyHandle : RocksHandle
{
    protected override void Free(nint pointer) => RocksNative.rocksdb_column_family_handle_destroy(pointer);
}

/// <summary>A snapshot; releasing it needs its database, which it keeps open.</summary>
internal sealed class SnapshotHandle(DbHandle db) : RocksHandle(db)
{
    protected override void Free(nint pointer) => RocksNative.rocksdb_release_snapshot(DependencyPointer(0), pointer);
}

internal sealed class CheckpointHandle(DbHandle db) : RocksHandle(db)
{
    protected override void Free(nint pointer) => RocksNative.rocksdb_checkpoint_object_destroy(pointer);
}

/// <summary>
/// An iterator. It keeps alive everything the native iterator points into: the database (and
/// so the column family it owns), the read options (whose bound slices it dereferences on every
/// move), the snapshot, and the native copies of the bounds.
/// </summary>
internal sealed class IteratorHandle(DbHandle db, ReadOptionsHandle options, SnapshotHandle? snapshot, NativeBufferHandle? bounds)
    : RocksHandle(db, options, snapshot, bounds)
{
    protected override void Free(nint pointer) => RocksNative.rocksdb_iter_destroy(pointer);
}

/// <summary>Unmanaged memory that must not move while native code points into it (iterator bounds).</summary>
internal sealed unsafe class NativeBufferHandle : RocksHandle
{
    internal NativeBufferHandle(int length)
    {
        Attach((nint)System.Runtime.InteropServices.NativeMemory.Alloc((nuint)Math.Max(1, length)), "allocate");
    }

    internal byte* Pointer => (byte*)handle;

    protected override void Free(nint pointer) => System.Runtime.InteropServices.NativeMemory.Free((void*)pointer);
}
