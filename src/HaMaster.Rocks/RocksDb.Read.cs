using HaMaster.Rocks.Lifetime;
using RocksDbSharp;

namespace HaMaster.Rocks;

// Point reads, multi-get, iterators, snapshots.
public sealed partial class RocksDb
{
    // Read options without snapshot or bounds, shared by all point reads (RocksDB only reads them).
    // Created on first use, after the library is loaded; never freed (one per process).
    private static ReadOptions s_readOptions => SharedOptions.Read;

    /// <summary>Reads a value into a fresh array; null when absent.</summary>
    public byte[]? Get(ReadOnlySpan<byte> key, ColumnFamily? cf = null, RocksSnapshot? snapshot = null)
    {
        using var db = Lease();
        var family = Family(cf);
        using var view = RocksSnapshot.Hold(snapshot);
        try
        {
            return _db.Get(key, family, ReadOptionsFor(snapshot));
        }
        catch (RocksDbSharpException e)
        {
            throw RocksDbException.From(e, "get", Path);
        }
    }

    /// <summary>Reads many keys of one column family in one native call; entries are null for absent keys.</summary>
    public byte[]?[] MultiGet(IReadOnlyList<byte[]> keys, ColumnFamily? cf = null, RocksSnapshot? snapshot = null)
    {
        ArgumentNullException.ThrowIfNull(keys);
        using var db = Lease();
        var family = Family(cf);
        if (keys.Count == 0)
        {
            return [];
        }

        using var view = RocksSnapshot.Hold(snapshot);
        var keyArray = keys as byte[][] ?? [.. keys];
        var families = new ColumnFamilyHandle[keyArray.Length];
        Array.Fill(families, family);
        var errors = new IntPtr[keyArray.Length];

        // RocksDb.MultiGet drops the per-key errors; RocksDbSharp's C API surface hands them back.
        var pairs = Native.Instance.rocksdb_multi_get(_db.Handle, ReadOptionsFor(snapshot).Handle, keyArray, errors, 0, null, null, families);
        string? firstError = null;
        foreach (var error in errors)
        {
            if (error != IntPtr.Zero)
            {
                firstError ??= System.Runtime.InteropServices.Marshal.PtrToStringUTF8(error);
                Native.Instance.rocksdb_free(error);
            }
        }

        if (firstError is not null)
        {
            throw new RocksDbException("multi-get", Path, firstError);
        }

        var values = new byte[]?[pairs.Length];
        for (var i = 0; i < pairs.Length; i++)
        {
            values[i] = pairs[i].Value;
        }

        return values;
    }

    /// <summary>
    /// Opens an iterator. The bounds are copied into native memory that stays fixed for the
    /// iterator's life. With a prefix extractor configured, <paramref name="prefixSameAsStart"/>
    /// limits iteration to the sought key's prefix (using prefix bloom filters); otherwise the
    /// iterator runs in total order. The iterator is not thread-safe; dispose it before the database
    /// (the database's Dispose disposes it otherwise).
    /// </summary>
    public RocksIterator NewIterator(ColumnFamily? cf = null, RocksSnapshot? snapshot = null, byte[]? lowerBound = null, byte[]? upperBound = null, bool prefixSameAsStart = false)
    {
        using var db = Lease();
        var family = Family(cf);
        if (snapshot is not null && !ReferenceEquals(snapshot.Owner, this))
        {
            throw new ArgumentException("The snapshot belongs to another database.", nameof(snapshot));
        }

        using var view = RocksSnapshot.Hold(snapshot);
        var (options, optionsLifetime) = OwnedReadOptions.Create(snapshot?.Inner, lowerBound, upperBound, prefixSameAsStart, snapshot?.Lifetime);
        try
        {
            var result = new RocksIterator(this, _db.NewIterator(family, options), optionsLifetime);
            Register(result);
            return result;
        }
        finally
        {
            // The iterator holds its own reference on the options; they are freed after it.
            optionsLifetime.Dispose();
        }
    }

    /// <summary>Takes a consistent point-in-time view for <see cref="Get"/>, <see cref="MultiGet"/> and iterators.</summary>
    public RocksSnapshot CreateSnapshot()
    {
        using var db = Lease();
        var result = new RocksSnapshot(this, _db.CreateSnapshot());
        Register(result);
        return result;
    }
}
