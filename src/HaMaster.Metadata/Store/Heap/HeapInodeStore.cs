using HaMaster.Protos.V1;
using HaMaster.Rocks;

namespace HaMaster.Metadata.Store.Heap;

/// <summary>On-heap inodes and per-directory sorted children (after Alluxio's HeapInodeStore).</summary>
/// <remarks>See <see cref="IInodeStore"/> for the concurrency contract: plain collections suffice
/// because mutations (Publish) never overlap reads.</remarks>
internal sealed class HeapInodeStore : IInodeStore
{
    private readonly Dictionary<ulong, InodeRecord> _inodes = [];
    private readonly Dictionary<ulong, SortedList<string, ulong>> _children = [];

    public int Count => _inodes.Count;

    public InodeRecord? GetInode(ulong id) => _inodes.GetValueOrDefault(id);

    public ulong GetChild(ulong parentId, string name) =>
        _children.TryGetValue(parentId, out var children) && children.TryGetValue(name, out var id) ? id : 0;

    public void ListChildren(ulong parentId, string? startAfter, int limit, List<KeyValuePair<string, ulong>> into)
    {
        if (!_children.TryGetValue(parentId, out var children))
        {
            return;
        }

        var keys = children.Keys;
        var values = children.Values;
        var start = startAfter is null ? 0 : UpperBound(keys, startAfter);
        for (var i = start; i < keys.Count && limit > 0; i++, limit--)
        {
            into.Add(new(keys[i], values[i]));
        }
    }

    public InodeRecord?[] GetInodes(IReadOnlyList<ulong> ids)
    {
        var result = new InodeRecord?[ids.Count];
        for (var i = 0; i < result.Length; i++)
        {
            result[i] = _inodes.GetValueOrDefault(ids[i]);
        }

        return result;
    }

    public IEnumerable<InodeRecord> EnumerateInodes()
    {
        var ids = _inodes.Keys.ToArray();
        Array.Sort(ids);
        foreach (var id in ids)
        {
            yield return _inodes[id];
        }
    }

    public void Stage(ApplyTransaction tx, WriteBatch? batch)
    {
    }

    public void Publish(ApplyTransaction tx)
    {
        foreach (var (id, inode) in tx.Inodes)
        {
            if (inode is null)
            {
                _inodes.Remove(id);
                _children.Remove(id);
            }
            else
            {
                _inodes[id] = inode;
            }
        }

        foreach (var (parentId, edges) in tx.Edges)
        {
            foreach (var (name, childId) in edges)
            {
                if (childId == 0)
                {
                    if (_children.TryGetValue(parentId, out var children))
                    {
                        children.Remove(name);
                        if (children.Count == 0)
                        {
                            _children.Remove(parentId);
                        }
                    }
                }
                else
                {
                    if (!_children.TryGetValue(parentId, out var children))
                    {
                        children = new SortedList<string, ulong>(Utf8Order.Instance);
                        _children.Add(parentId, children);
                    }

                    children[name] = childId;
                }
            }
        }
    }

    /// <summary>Loads a record without going through a transaction (snapshot restore, initial root).</summary>
    public void Load(InodeRecord inode)
    {
        _inodes[inode.Id] = inode;
        if (inode.Id != Metastore.RootId)
        {
            if (!_children.TryGetValue(inode.ParentId, out var children))
            {
                children = new SortedList<string, ulong>(Utf8Order.Instance);
                _children.Add(inode.ParentId, children);
            }

            children[inode.Name] = inode.Id;
        }
    }

    private static int UpperBound(IList<string> keys, string value)
    {
        int lo = 0, hi = keys.Count;
        while (lo < hi)
        {
            var mid = (lo + hi) >>> 1;
            if (Utf8Order.Instance.Compare(keys[mid], value) <= 0)
            {
                lo = mid + 1;
            }
            else
            {
                hi = mid;
            }
        }

        return lo;
    }
}
