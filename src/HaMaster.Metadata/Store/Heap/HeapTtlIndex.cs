using HaMaster.Protos.V1;
using HaMaster.Rocks;

namespace HaMaster.Metadata.Store.Heap;

/// <summary>The expiry index in memory: (bucket start, inode id) -> expiry, sorted as the RocksDB keys are.</summary>
/// <remarks>See <see cref="ITtlIndex"/> for the concurrency contract: mutations (Publish) never overlap reads.</remarks>
internal sealed class HeapTtlIndex : ITtlIndex
{
    private readonly SortedDictionary<(long Bucket, ulong InodeId), long> _entries = [];

    public void ListDue(long nowMs, int maxExamined, List<TtlDue> into)
    {
        if (maxExamined <= 0 || nowMs < 0) return;
        var lastBucket = TtlIndexKeys.BucketOf(nowMs);
        foreach (var ((bucket, id), expiry) in _entries)
        {
            if (bucket > lastBucket || maxExamined-- <= 0) break;
            if (expiry <= nowMs)
            {
                into.Add(new TtlDue(id, expiry));
            }
        }
    }

    public long Count => _entries.Count;

    public void Stage(ApplyTransaction tx, WriteBatch? batch)
    {
    }

    public void Publish(ApplyTransaction tx)
    {
        foreach (var (id, old, now) in tx.TtlIndexChanges())
        {
            if (old != TtlIndexKeys.None)
            {
                _entries.Remove((TtlIndexKeys.BucketOf(old), id));
            }

            if (now != TtlIndexKeys.None)
            {
                _entries[(TtlIndexKeys.BucketOf(now), id)] = now;
            }
        }
    }

    /// <summary>Adds an inode loaded from a snapshot.</summary>
    public void Load(InodeRecord inode)
    {
        var expiry = TtlIndexKeys.ExpiryOf(inode);
        if (expiry != TtlIndexKeys.None)
        {
            _entries[(TtlIndexKeys.BucketOf(expiry), inode.Id)] = expiry;
        }
    }
}
