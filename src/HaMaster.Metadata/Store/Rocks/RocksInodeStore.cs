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
        // Names are validated components (<= 255 UTF-8 bytes), so the key fits the stack.
        Span<byte> buffer = stackalloc byte[512];
        var length = 8 + System.Text.Encoding.UTF8.GetMaxByteCount(name.Length);
        byte[]? value;
        if (length <= buffer.Length)
        {
            Keys.WriteId(buffer, parentId);
            var written = System.Text.Encoding.UTF8.GetBytes(name, buffer[8..]);
            value = db.Get(buffer[..(8 + written)], edges);
        }
        else
        {
            value = db.Get(Keys.Edge(parentId, name), edges);
        }

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

    public InodeRecord?[] GetInodes(IReadOnlyList<ulong> ids)
    {
        var keys = new byte[ids.Count][];
        for (var i = 0; i < keys.Length; i++)
        {
            keys[i] = Keys.Id(ids[i]);
        }

        var values = db.MultiGet(keys, inodes);
        var result = new InodeRecord?[values.Length];
        for (var i = 0; i < values.Length; i++)
        {
            result[i] = values[i] is { } value ? InodeRecord.Parser.ParseFrom(value) : null;
        }

        return result;
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

        // Keys and values are serialized into reused scratch buffers: WriteBatch copies them.
        var key = new byte[1100];
        var value = new byte[4096];
        foreach (var (id, inode) in tx.Inodes)
        {
            Keys.WriteId(key, id);
            if (inode is null)
            {
                batch.Delete(key.AsSpan(0, 8), inodes);
            }
            else
            {
                batch.Put(key.AsSpan(0, 8), Keys.Value(inode, value), inodes);
            }
        }

        foreach (var (parentId, changes) in tx.Edges)
        {
            foreach (var (name, childId) in changes)
            {
                if (childId == 0)
                {
                    batch.Delete(Keys.Edge(parentId, name, key), edges);
                }
                else
                {
                    Keys.WriteId(value, childId);
                    batch.Put(Keys.Edge(parentId, name, key), value.AsSpan(0, 8), edges);
                }
            }
        }
    }

    public void Publish(ApplyTransaction tx)
    {
    }
}
