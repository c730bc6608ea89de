using System.Buffers.Binary;
using HaMaster.Protos.V1;
using HaMaster.Rocks;

namespace HaMaster.Metadata.Store;

/// <summary>
/// The expiry index: one entry per inode with a time to live, keyed by (bucket start, inode id) so
/// that the leader's checker reads the due inodes in expiry order without scanning the namespace.
/// </summary>
/// <remarks>
/// The index is a pure function of the inodes (<see cref="TtlIndexKeys.ExpiryOf"/>): it is maintained
/// from the inode changes of each applied batch, in the same commit, and rebuilt from the inodes when a
/// store or snapshot written before it existed is opened. Same concurrency contract as
/// <see cref="IInodeStore"/>.
/// </remarks>
internal interface ITtlIndex
{
    /// <summary>
    /// Appends, in (bucket, id) order, the entries whose expiry is at most <paramref name="nowMs"/>,
    /// examining at most <paramref name="maxExamined"/> entries (entries of the current bucket that are
    /// not due yet count as examined): the work of one call is bounded whatever the index holds.
    /// </summary>
    void ListDue(long nowMs, int maxExamined, List<TtlDue> into);

    /// <summary>Entries in the index (a full count; tests and diagnostics only).</summary>
    long Count { get; }

    void Stage(ApplyTransaction tx, WriteBatch? batch);

    void Publish(ApplyTransaction tx);
}

/// <summary>Expiry arithmetic and the key encoding of the "ttl_buckets" column family.</summary>
internal static class TtlIndexKeys
{
    /// <summary>Bucket width. A constant, not configuration: the index is replicated state, so every
    /// master must lay it out the same way.</summary>
    public const long BucketMs = 1000;

    /// <summary>No time to live (not in the index).</summary>
    public const long None = -1;

    /// <summary>creation + ttl (saturating, never negative), or <see cref="None"/> when ttl is 0 or less.</summary>
    public static long ExpiryOf(InodeRecord? inode)
    {
        if (inode is null || inode.TtlMs <= 0) return None;
        var creation = Math.Max(0, inode.CreationTimeMs);
        return long.MaxValue - creation < inode.TtlMs ? long.MaxValue : creation + inode.TtlMs;
    }

    public static long BucketOf(long expiryMs) => expiryMs - (expiryMs % BucketMs);

    public static byte[] Key(long expiryMs, ulong inodeId)
    {
        var key = new byte[16];
        BinaryPrimitives.WriteUInt64BigEndian(key, (ulong)BucketOf(expiryMs));
        BinaryPrimitives.WriteUInt64BigEndian(key.AsSpan(8), inodeId);
        return key;
    }

    /// <summary>The first key of the bucket after the one holding <paramref name="nowMs"/> (an exclusive upper bound).</summary>
    public static byte[] UpperBound(long nowMs)
    {
        var bucket = BucketOf(Math.Max(0, nowMs));
        var key = new byte[8];
        BinaryPrimitives.WriteUInt64BigEndian(key, bucket > long.MaxValue - BucketMs ? ulong.MaxValue : (ulong)(bucket + BucketMs));
        return key;
    }

    public static byte[] Value(long expiryMs)
    {
        var value = new byte[8];
        BinaryPrimitives.WriteInt64BigEndian(value, expiryMs);
        return value;
    }

    public static ulong ReadInodeId(ReadOnlySpan<byte> key) => BinaryPrimitives.ReadUInt64BigEndian(key[8..]);

    public static long ReadExpiry(ReadOnlySpan<byte> value) => BinaryPrimitives.ReadInt64BigEndian(value);
}
