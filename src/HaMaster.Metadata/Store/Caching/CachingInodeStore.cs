using HaMaster.Protos.V1;
using HaMaster.Rocks;

namespace HaMaster.Metadata.Store.Caching;

/// <summary>
/// A bounded on-heap cache of inodes and edges in front of the RocksDB inode store (after Alluxio's
/// CachingInodeStore): hot paths are resolved without touching RocksDB while memory stays bounded
/// whatever the size of the namespace. Listings go to RocksDB (a sorted prefix scan).
/// </summary>
/// <remarks>
/// Consistency: the cache is write-through for cached keys (new keys are not inserted: entries nobody
/// has read would only evict hot ones). Publish updates it under the state machine's exclusive
/// lock right after the batch reached RocksDB; misses are filled by readers holding the shared lock
/// (or by the apply loop, the only writer), so a filled value is never older than the store.
/// Edge misses are cached as 0 (negative entries) because creates always probe a name that is absent.
/// </remarks>
internal sealed class CachingInodeStore : IInodeStore
{
    private readonly IInodeStore _backing;
    private readonly ClockCache<ulong, InodeRecord> _inodes;
    private readonly ClockCache<(ulong Parent, string Name), ulong> _edges;

    public CachingInodeStore(IInodeStore backing, int maxEntries)
    {
        _backing = backing;
        _inodes = new ClockCache<ulong, InodeRecord>(maxEntries);
        _edges = new ClockCache<(ulong, string), ulong>(maxEntries);
    }

    public long Hits => _inodes.Hits + _edges.Hits;

    public long Misses => _inodes.Misses + _edges.Misses;

    public int Entries => _inodes.Count + _edges.Count;

    public InodeRecord? GetInode(ulong id)
    {
        if (_inodes.TryGet(id, out var inode))
        {
            return inode;
        }

        inode = _backing.GetInode(id);
        if (inode is not null)
        {
            _inodes.Set(id, inode);
        }

        return inode;
    }

    public ulong GetChild(ulong parentId, string name)
    {
        if (_edges.TryGet((parentId, name), out var child))
        {
            return child;
        }

        child = _backing.GetChild(parentId, name);
        _edges.Set((parentId, name), child);
        return child;
    }

    public void ListChildren(ulong parentId, string? startAfter, int limit, List<KeyValuePair<string, ulong>> into) =>
        _backing.ListChildren(parentId, startAfter, limit, into);

    /// <summary>Cached inodes are served from memory, the rest with one batched read; misses are not
    /// inserted, so a scan of a huge directory cannot flush the hot set.</summary>
    public InodeRecord?[] GetInodes(IReadOnlyList<ulong> ids)
    {
        var result = new InodeRecord?[ids.Count];
        List<ulong>? missing = null;
        List<int>? positions = null;
        for (var i = 0; i < result.Length; i++)
        {
            if (_inodes.TryGet(ids[i], out var inode))
            {
                result[i] = inode;
            }
            else
            {
                (missing ??= []).Add(ids[i]);
                (positions ??= []).Add(i);
            }
        }

        if (missing is not null)
        {
            var loaded = _backing.GetInodes(missing);
            for (var i = 0; i < loaded.Length; i++)
            {
                result[positions![i]] = loaded[i];
            }
        }

        return result;
    }

    public IEnumerable<InodeRecord> EnumerateInodes() => _backing.EnumerateInodes();

    public void Stage(ApplyTransaction tx, WriteBatch? batch) => _backing.Stage(tx, batch);

    public void Publish(ApplyTransaction tx)
    {
        _backing.Publish(tx);
        foreach (var (id, inode) in tx.Inodes)
        {
            if (inode is null)
            {
                _inodes.Remove(id);
            }
            else
            {
                _inodes.Update(id, inode);
            }
        }

        foreach (var (parentId, changes) in tx.Edges)
        {
            foreach (var (name, childId) in changes)
            {
                _edges.Update((parentId, name), childId);
            }
        }
    }
}
