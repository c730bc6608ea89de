using System.Runtime.InteropServices;
using RocksDbSharp;

namespace HaMaster.Rocks.Lifetime;

/// <summary>
/// RocksDbSharp read options that are freed when we say so rather than by the finalizer, with
/// iterator bounds kept in native memory of our own (RocksDB reads the bound slices on every move,
/// so they must not move and must outlive the iterator: its lifetime depends on this one's).
/// </summary>
internal sealed unsafe class OwnedReadOptions : ReadOptions
{
    private byte* _bounds;

    private OwnedReadOptions()
    {
    }

    /// <summary>Read options for an iterator or snapshot reads, with their lifetime.</summary>
    public static (OwnedReadOptions Options, NativeLifetime Lifetime) Create(Snapshot? snapshot, byte[]? lowerBound, byte[]? upperBound, bool prefixSameAsStart, NativeLifetime? snapshotLifetime)
    {
        var options = new OwnedReadOptions();

        // Freed by its lifetime only: RocksDB iterators keep pointers into the C options object (the
        // bound slices), and a lifetime frees it after the iterators that depend on it, which the
        // base class finalizer would not.
#pragma warning disable CA1816 // deliberately, outside Dispose
        GC.SuppressFinalize(options);
#pragma warning restore CA1816
        NativeLifetime lifetime;
        try
        {
            lifetime = new NativeLifetime(options.Free, snapshotLifetime);
        }
        catch
        {
            options.Free();
            throw;
        }

        if (snapshot is not null)
        {
            options.SetSnapshot(snapshot);
        }

        var lowerLength = lowerBound?.Length ?? 0;
        var upperLength = upperBound?.Length ?? 0;
        if (lowerBound is not null || upperBound is not null)
        {
            options._bounds = (byte*)NativeMemory.Alloc((nuint)Math.Max(1, lowerLength + upperLength));
            if (lowerBound is not null)
            {
                lowerBound.CopyTo(new Span<byte>(options._bounds, lowerLength));
                options.SetIterateLowerBound(options._bounds, (ulong)lowerLength);
            }

            if (upperBound is not null)
            {
                upperBound.CopyTo(new Span<byte>(options._bounds + lowerLength, upperLength));
                options.SetIterateUpperBound(options._bounds + lowerLength, (ulong)upperLength);
            }
        }

        options.SetPrefixSameAsStart(prefixSameAsStart);
        options.SetTotalOrderSeek(!prefixSameAsStart);
        return (options, lifetime);
    }

    private void Free()
    {
        if (Handle != IntPtr.Zero)
        {
            Native.Instance.rocksdb_readoptions_destroy(Handle);
            Handle = IntPtr.Zero; // the base finalizer then has nothing left to free
        }

        if (_bounds is not null)
        {
            NativeMemory.Free(_bounds);
            _bounds = null;
        }
    }
}
