using System.Buffers;
using HaMaster.Rocks.Native;

namespace HaMaster.Rocks;

// Point reads (copying and pinned), multi-get, iterators, snapshots.
public sealed partial class RocksDb
{
    /// <summary>Reads a value into a fresh array (one copy out of RocksDB's pinned block); null when absent.</summary>
    public unsafe byte[]? Get(ReadOnlySpan<byte> key, ColumnFamily? cf = null, RocksSnapshot? snapshot = null)
    {
        byte[]? result = null;
        ReadPinned(key, cf, snapshot, ref result, static (value, ref r) => r = value.ToArray());
        return result;
    }

    /// <summary>Reads a value straight from RocksDB's pinned memory into <paramref name="destination"/> (one copy, no allocation).</summary>
    /// <returns>False (and nothing written) when the key is absent.</returns>
    public bool TryGet(ReadOnlySpan<byte> key, IBufferWriter<byte> destination, ColumnFamily? cf = null, RocksSnapshot? snapshot = null)
    {
        ArgumentNullException.ThrowIfNull(destination);
        return ReadPinned(key, cf, snapshot, ref destination, static (value, ref d) =>
        {
            value.CopyTo(d.GetSpan(value.Length));
            d.Advance(value.Length);
        });
    }

    /// <summary>
    /// Reads a value into <paramref name="destination"/> when it fits. <paramref name="valueLength"/>
    /// is the value's full length either way, so a caller can retry with a larger buffer.
    /// </summary>
    /// <returns>False when the key is absent (valueLength is then -1).</returns>
    public bool TryGet(ReadOnlySpan<byte> key, Span<byte> destination, out int valueLength, ColumnFamily? cf = null, RocksSnapshot? snapshot = null)
    {
        var state = new SpanTarget(destination);
        var found = ReadPinned(key, cf, snapshot, ref state, static (value, ref s) =>
        {
            s.Length = value.Length;
            if (value.Length <= s.Destination.Length)
            {
                value.CopyTo(s.Destination);
            }
        });
        valueLength = found ? state.Length : -1;
        return found;
    }

    /// <summary>
    /// Hands the value to <paramref name="reader"/> as a span over RocksDB's pinned memory, with
    /// no copy at all. The span is valid only inside the callback.
    /// </summary>
    /// <returns>False (reader not called) when the key is absent.</returns>
    public bool TryRead<TState>(ReadOnlySpan<byte> key, ref TState state, PinnedValueReader<TState> reader, ColumnFamily? cf = null, RocksSnapshot? snapshot = null)
        where TState : allows ref struct
    {
        ArgumentNullException.ThrowIfNull(reader);
        return ReadPinned(key, cf, snapshot, ref state, reader);
    }

    /// <summary>Reads many keys of one column family in one native call; entries are null for absent keys.</summary>
    public unsafe byte[]?[] MultiGet(IReadOnlyList<byte[]> keys, ColumnFamily? cf = null, RocksSnapshot? snapshot = null)
    {
        ArgumentNullException.ThrowIfNull(keys);
        ThrowIfDisposed();
        var n = keys.Count;
        if (n == 0)
        {
            return [];
        }

        var total = 0;
        foreach (var key in keys)
        {
            total = checked(total + key.Length);
        }

        using var db = Lease();
        var cfPointer = ColumnFamilyPointer(cf);
        using var readOptions = new HandleLease(ReadOptionsFor(snapshot));
        var keyBytes = ArrayPool<byte>.Shared.Rent(Math.Max(1, total));
        var keyPointers = new nint[n];
        var keyLengths = new nuint[n];
        var cfPointers = new nint[n];
        var values = new nint[n];
        var valueLengths = new nuint[n];
        var errors = new nint[n];
        try
        {
            fixed (byte* keyBase = keyBytes)
            fixed (nint* keysPtr = keyPointers, cfsPtr = cfPointers, valuesPtr = values, errorsPtr = errors)
            fixed (nuint* keyLengthsPtr = keyLengths, valueLengthsPtr = valueLengths)
            {
                var offset = 0;
                for (var i = 0; i < n; i++)
                {
                    keys[i].CopyTo(keyBytes, offset);
                    keyPointers[i] = (nint)(keyBase + offset);
                    keyLengths[i] = (nuint)keys[i].Length;
                    cfPointers[i] = cfPointer;
                    offset += keys[i].Length;
                }

                RocksNative.rocksdb_multi_get_cf(db.Pointer, readOptions.Pointer, cfsPtr, (nuint)n, keysPtr, keyLengthsPtr, valuesPtr, valueLengthsPtr, errorsPtr);
            }

            var results = new byte[]?[n];
            string? firstError = null;
            for (var i = 0; i < n; i++)
            {
                if (errors[i] != 0)
                {
                    var message = RocksNative.TakeString(errors[i]);
                    errors[i] = 0;
                    firstError ??= message;
                }

                if (values[i] != 0)
                {
                    results[i] = new ReadOnlySpan<byte>((void*)values[i], checked((int)valueLengths[i])).ToArray();
                    RocksNative.rocksdb_free(values[i]);
                    values[i] = 0;
                }
            }

            return firstError is null ? results : throw new RocksDbException("multi-get", Path, firstError);
        }
        finally
        {
            for (var i = 0; i < n; i++)
            {
                if (values[i] != 0)
                {
                    RocksNative.rocksdb_free(values[i]);
                }

                if (errors[i] != 0)
                {
                    RocksNative.rocksdb_free(errors[i]);
                }
            }

            ArrayPool<byte>.Shared.Return(keyBytes);
        }
    }

    /// <summary>
    /// Opens an iterator. The bounds are copied into native memory that stays fixed for the
    /// iterator's life. With a prefix extractor configured, <paramref name="prefixSameAsStart"/>
    /// limits iteration to the sought key's prefix (using prefix bloom filters); otherwise the
    /// iterator runs in total order. The iterator is not thread-safe; dispose it before the database
    /// (the database's Dispose disposes it otherwise).
    /// </summary>
    public unsafe RocksIterator NewIterator(ColumnFamily? cf = null, RocksSnapshot? snapshot = null, byte[]? lowerBound = null, byte[]? upperBound = null, bool prefixSameAsStart = false)
    {
        using var db = Lease();
        var cfPointer = ColumnFamilyPointer(cf);
        if (snapshot is not null && !ReferenceEquals(snapshot.Owner, this))
        {
            throw new ArgumentException("The snapshot belongs to another database.", nameof(snapshot));
        }

        ObjectDisposedException.ThrowIf(snapshot?.IsDisposed == true, snapshot!);
        var snapshotHandle = snapshot?.Handle;
        NativeBufferHandle? bounds = null;
        ReadOptionsHandle? readOptions = null;
        IteratorHandle? iterator = null;
        try
        {
            readOptions = new ReadOptionsHandle(snapshotHandle);
            readOptions.Attach(RocksNative.rocksdb_readoptions_create(), "create read options");
            if (snapshotHandle is not null)
            {
                RocksNative.rocksdb_readoptions_set_snapshot(readOptions, snapshotHandle);
            }

            if (lowerBound is not null || upperBound is not null)
            {
                var lowerLength = lowerBound?.Length ?? 0;
                bounds = new NativeBufferHandle(lowerLength + (upperBound?.Length ?? 0));
                if (lowerBound is not null)
                {
                    lowerBound.CopyTo(new Span<byte>(bounds.Pointer, lowerLength));
                    RocksNative.rocksdb_readoptions_set_iterate_lower_bound(readOptions, bounds.Pointer, (nuint)lowerLength);
                }

                if (upperBound is not null)
                {
                    upperBound.CopyTo(new Span<byte>(bounds.Pointer + lowerLength, upperBound.Length));
                    RocksNative.rocksdb_readoptions_set_iterate_upper_bound(readOptions, bounds.Pointer + lowerLength, (nuint)upperBound.Length);
                }
            }

            RocksNative.rocksdb_readoptions_set_prefix_same_as_start(readOptions, prefixSameAsStart ? (byte)1 : (byte)0);
            RocksNative.rocksdb_readoptions_set_total_order_seek(readOptions, prefixSameAsStart ? (byte)0 : (byte)1);

            iterator = new IteratorHandle(_db, readOptions, snapshotHandle, bounds);
            iterator.Attach(RocksNative.rocksdb_create_iterator_cf(db.Pointer, readOptions.DangerousGetHandle(), cfPointer), "create iterator");
            var result = new RocksIterator(this, iterator);
            Register(result);
            return result;
        }
        catch
        {
            iterator?.Dispose();
            throw;
        }
        finally
        {
            // The iterator handle holds its own references on these; they are freed after it.
            readOptions?.Dispose();
            bounds?.Dispose();
        }
    }

    /// <summary>Takes a consistent point-in-time view for <see cref="Get"/>, <see cref="TryGet(ReadOnlySpan{byte}, IBufferWriter{byte}, ColumnFamily?, RocksSnapshot?)"/> and iterators.</summary>
    public RocksSnapshot CreateSnapshot()
    {
        ThrowIfDisposed();
        var snapshot = new SnapshotHandle(_db);
        ReadOptionsHandle? readOptions = null;
        try
        {
            snapshot.Attach(RocksNative.rocksdb_create_snapshot(_db), "create snapshot");
            readOptions = new ReadOptionsHandle(snapshot);
            readOptions.Attach(RocksNative.rocksdb_readoptions_create(), "create read options");
            RocksNative.rocksdb_readoptions_set_snapshot(readOptions, snapshot);
            var result = new RocksSnapshot(this, snapshot, readOptions);
            Register(result);
            return result;
        }
        catch
        {
            readOptions?.Dispose();
            snapshot.Dispose();
            throw;
        }
    }

    /// <summary>
    /// Looks a key up with rocksdb_get_pinned_cf and gives the reader the pinned value. The database
    /// is leased for the whole read so a concurrent Dispose cannot free the block the value points into.
    /// </summary>
    private unsafe bool ReadPinned<TState>(ReadOnlySpan<byte> key, ColumnFamily? cf, RocksSnapshot? snapshot, ref TState state, PinnedValueReader<TState> reader)
        where TState : allows ref struct
    {
        using var db = Lease();
        var cfPointer = ColumnFamilyPointer(cf);
        if (snapshot is null)
        {
            return ReadPinned(db.Pointer, _readOptions.DangerousGetHandle(), cfPointer, key, ref state, reader);
        }

        using var readOptions = new HandleLease(ReadOptionsFor(snapshot));
        return ReadPinned(db.Pointer, readOptions.Pointer, cfPointer, key, ref state, reader);
    }

    private unsafe bool ReadPinned<TState>(nint db, nint readOptions, nint cf, ReadOnlySpan<byte> key, ref TState state, PinnedValueReader<TState> reader)
        where TState : allows ref struct
    {
        nint error = 0;
        nint slice;
        fixed (byte* k = key)
        {
            slice = RocksNative.rocksdb_get_pinned_cf(db, readOptions, cf, k, (nuint)key.Length, &error);
        }

        RocksDbException.ThrowIfError(error, "get", Path);
        if (slice == 0)
        {
            return false;
        }

        try
        {
            nuint length;
            var value = RocksNative.rocksdb_pinnableslice_value(slice, &length);
            reader(new ReadOnlySpan<byte>(value, checked((int)length)), ref state);
            return true;
        }
        finally
        {
            RocksNative.rocksdb_pinnableslice_destroy(slice);
        }
    }

    private ref struct SpanTarget(Span<byte> destination)
    {
        public readonly Span<byte> Destination = destination;
        public int Length;
    }
}

/// <summary>Receives a value pinned in RocksDB's memory; the span is valid only during the call.</summary>
public delegate void PinnedValueReader<TState>(ReadOnlySpan<byte> value, ref TState state)
    where TState : allows ref struct;
