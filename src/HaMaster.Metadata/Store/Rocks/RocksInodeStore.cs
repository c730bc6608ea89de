using HaMaster.Protos.V1;
using HaMaster.Rocks;

namespace HaMaster.Metadata.Store.Rocks;

/// <summary>Inodes in column family "inodes" (id BE -> InodeRecord) and edges in "edges"
/// (parent id BE + UTF-8 name -> child id BE), so a directory listing is one bounded prefix scan.</summary>
/// <remarks>See <see cref="IInodeStore"/> for the concurrency contract; RocksDB itself is thread-safe.</remarks>
internal sealed class RocksInodeStore(RocksDb db, ColumnFamily inodes, ColumnFamily edges) : IInodeStore
{
    public InodeRecord? GetInode(ulong id)
    {
        Span<byte> key = stackalloc byte[8];
        Keys.WriteId(key, id);
        var value = db.Get(key, inodes);
        return value is null ? null : InodeRecord.Parser.ParseFrom(value);
    }

    public ulong GetChild(ulong parentId, string name)
    {
        var value = db.Get(Keys.Edge(parentId, name), edges);
        return value is null ? 0 : Keys.ReadId(value);
    }

    public void ListChildren(ulong parentId, string? startAfter, int limit, List<KeyValuePair<string, ulong>> into)
    {
        var lower = startAfter is null ? Keys.Id(parentId) : Keys.EdgeSuccessor(parentId, startAfter);
        var upper = parentId == ulong.MaxValue ? null : Keys.Id(parentId + 1);
        using var it = db.NewIterator(edges, lowerBound: lower, upperBound: upper);
        for (it.Seek(lower); it.Valid && limit > 0; it.Next(), limit--)
        {
            into.Add(new(Keys.EdgeName(it.Key), Keys.ReadId(it.Value)));
        }

        it.ThrowIfError();
    }

    public IEnumerable<InodeRecord> EnumerateInodes()
    {
        using var it = db.NewIterator(inodes);
        for (it.SeekToFirst(); it.Valid; it.Next())
        {
            yield return InodeRecord.Parser.ParseFrom(it.Value.ToArray());
        }

        it.ThrowIfError();
    }

    public void Stage(ApplyTransaction tx, WriteBatch? batch)
    {
        ArgumentNullException.ThrowIfNull(batch);
        foreach (var (id, inode) in tx.Inodes)
        {
            if (inode is null)
            {
                batch.Delete(Keys.Id(id), inodes);
            }
            else
            {
                batch.Put(Keys.Id(id), inode.ToByteArray(), inodes);
            }
        }

        foreach (var (parentId, changes) in tx.Edges)
        {
            foreach (var (name, childId) in changes)
            {
                if (childId == 0)
                {
                    batch.Delete(Keys.Edge(parentId, name), edges);
                }
                else
                {
                    batch.Put(Keys.Edge(parentId, name), Keys.Id(childId), edges);
                }
            }
        }
    }

    public void Publish(ApplyTransaction tx)
    {
    }
}
