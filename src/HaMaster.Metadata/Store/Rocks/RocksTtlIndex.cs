using HaMaster.Rocks;

namespace HaMaster.Metadata.Store.Rocks;

/// <summary>The expiry index in column family "ttl_buckets" (see <see cref="TtlIndexKeys"/>).</summary>
/// <remarks>See <see cref="ITtlIndex"/> for the concurrency contract; RocksDB itself is thread-safe.</remarks>
internal sealed class RocksTtlIndex(RocksDb db, ColumnFamily buckets) : ITtlIndex
{
    /// <summary>Key in the default column family saying the index has been built for this database
    /// (databases and snapshots written before the index existed lack it, and get it rebuilt on open).</summary>
    public static readonly byte[] BuiltMarkerKey = "ttl_index_v1"u8.ToArray();

    public void ListDue(long nowMs, int maxExamined, List<TtlDue> into)
    {
        if (maxExamined <= 0 || nowMs < 0) return;
        using var it = db.NewIterator(buckets, upperBound: TtlIndexKeys.UpperBound(nowMs));
        for (it.SeekToFirst(); it.Valid && maxExamined > 0; it.Next(), maxExamined--)
        {
            var expiry = TtlIndexKeys.ReadExpiry(it.Value);
            if (expiry <= nowMs)
            {
                into.Add(new TtlDue(TtlIndexKeys.ReadInodeId(it.Key), expiry));
            }
        }

        it.ThrowIfError();
    }

    public long Count
    {
        get
        {
            long count = 0;
            using var it = db.NewIterator(buckets);
            for (it.SeekToFirst(); it.Valid; it.Next())
            {
                count++;
            }

            it.ThrowIfError();
            return count;
        }
    }

    public void Stage(ApplyTransaction tx, WriteBatch? batch)
    {
        ArgumentNullException.ThrowIfNull(batch);
        foreach (var (id, old, now) in tx.TtlIndexChanges())
        {
            if (old != TtlIndexKeys.None)
            {
                batch.Delete(TtlIndexKeys.Key(old, id), buckets);
            }

            if (now != TtlIndexKeys.None)
            {
                batch.Put(TtlIndexKeys.Key(now, id), TtlIndexKeys.Value(now), buckets);
            }
        }
    }

    public void Publish(ApplyTransaction tx)
    {
    }

    /// <summary>Adds the index entries of every inode with a time to live to <paramref name="batch"/>
    /// (a rebuild or an import; the column family must be empty), flushing it every
    /// <paramref name="chunk"/> operations.</summary>
    public static void Build(RocksDb db, ColumnFamily buckets, IEnumerable<Protos.V1.InodeRecord> inodes, WriteBatch batch, int chunk)
    {
        foreach (var inode in inodes)
        {
            var expiry = TtlIndexKeys.ExpiryOf(inode);
            if (expiry == TtlIndexKeys.None) continue;
            batch.Put(TtlIndexKeys.Key(expiry, inode.Id), TtlIndexKeys.Value(expiry), buckets);
            if (batch.Count >= chunk)
            {
                db.Write(batch);
                batch.Clear();
            }
        }
    }
}
