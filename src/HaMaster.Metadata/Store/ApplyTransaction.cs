using HaMaster.Protos.V1;

namespace HaMaster.Metadata.Store;

/// <summary>
/// The uncommitted changes of one applied batch, layered over the committed stores: apply reads
/// through it (so entry 2 of a batch sees entry 1's effects) and the metastore turns it into one
/// RocksDB WriteBatch (or one in-memory update) at the end of the batch.
/// </summary>
/// <remarks>Used only by the apply loop. Records handed out by the Get*ForUpdate methods are private
/// clones owned by the transaction; committed records are never mutated.</remarks>
internal sealed partial class ApplyTransaction : INamespaceView
{
    private readonly Metastore _store;

    public ApplyTransaction(Metastore store)
    {
        _store = store;
        State = store.State.Clone();
        _firstNewInodeId = State.NextInodeId;
    }

    /// <summary>Counters and applied position as of the end of this transaction.</summary>
    public StateRecord State { get; }

    /// <summary>Changed inodes; null = deleted.</summary>
    public Dictionary<ulong, InodeRecord?> Inodes { get; } = [];

    /// <summary>Changed edges per parent; value 0 = deleted (inode ids start at 1).</summary>
    public Dictionary<ulong, Dictionary<string, ulong>> Edges { get; } = [];

    public Dictionary<ulong, BlockRecord?> Blocks { get; } = [];

    /// <summary>Changed locations per block; null = deleted.</summary>
    public Dictionary<ulong, Dictionary<ulong, LocationRecord?>> Locations { get; } = [];

    /// <summary>Changed reverse locations per worker; true = present, false = deleted.</summary>
    public Dictionary<ulong, Dictionary<ulong, bool>> WorkerBlocks { get; } = [];

    public Dictionary<ulong, WorkerRecord?> Workers { get; } = [];

    public Dictionary<string, ulong> WorkerAddresses { get; } = new(StringComparer.Ordinal);

    public Dictionary<string, SessionRecord?> Sessions { get; } = new(StringComparer.Ordinal);

    /// <summary>The new mount table, or null when this transaction did not change it.</summary>
    public MountTable? ChangedMounts { get; set; }

    /// <summary>The mount table as of this point of the transaction.</summary>
    public MountTable Mounts => ChangedMounts ?? _store.Mounts;

    // ---- inodes and edges

    public InodeRecord? GetInode(ulong id) => Inodes.TryGetValue(id, out var inode) ? inode : _store.Inodes.GetInode(id);

    public InodeRecord GetInodeForUpdate(ulong id)
    {
        if (Inodes.TryGetValue(id, out var pending) && pending is not null)
        {
            return pending;
        }

        var committed = _store.Inodes.GetInode(id) ?? throw new InvalidOperationException($"inode {id} does not exist");
        RememberCommittedExpiry(id, committed);
        var clone = committed.Clone();
        Inodes[id] = clone;
        return clone;
    }

    public void PutInode(InodeRecord inode)
    {
        RememberCommittedExpiry(inode.Id);
        Inodes[inode.Id] = inode;
    }

    public void DeleteInode(ulong id)
    {
        RememberCommittedExpiry(id);
        Inodes[id] = null;
    }

    /// <summary>Deletes an inode whose current record (as <see cref="GetInode"/> returned it) the caller
    /// holds, sparing the expiry index a second lookup.</summary>
    public void DeleteInode(InodeRecord current)
    {
        RememberCommittedExpiry(current.Id, current);
        Inodes[current.Id] = null;
    }

    public ulong GetChild(ulong parentId, string name) =>
        Edges.TryGetValue(parentId, out var edges) && edges.TryGetValue(name, out var child) ? child : _store.Inodes.GetChild(parentId, name);

    public void PutEdge(ulong parentId, string name, ulong childId) => EdgesOf(parentId)[name] = childId;

    public void DeleteEdge(ulong parentId, string name) => EdgesOf(parentId)[name] = 0;

    /// <summary>All children of a directory (committed merged with pending), unordered.</summary>
    public List<KeyValuePair<string, ulong>> ListAllChildren(ulong parentId)
    {
        var committed = new List<KeyValuePair<string, ulong>>();
        _store.Inodes.ListChildren(parentId, null, int.MaxValue, committed);
        if (!Edges.TryGetValue(parentId, out var pending))
        {
            return committed;
        }

        var merged = new Dictionary<string, ulong>(committed.Count + pending.Count, StringComparer.Ordinal);
        foreach (var (name, id) in committed)
        {
            merged[name] = id;
        }

        foreach (var (name, id) in pending)
        {
            if (id == 0)
            {
                merged.Remove(name);
            }
            else
            {
                merged[name] = id;
            }
        }

        return [.. merged];
    }

    private Dictionary<string, ulong> EdgesOf(ulong parentId)
    {
        if (!Edges.TryGetValue(parentId, out var edges))
        {
            edges = new Dictionary<string, ulong>(StringComparer.Ordinal);
            Edges.Add(parentId, edges);
        }

        return edges;
    }

    // ---- blocks and locations

    public BlockRecord? GetBlock(ulong id) => Blocks.TryGetValue(id, out var block) ? block : _store.Blocks.GetBlock(id);

    public void PutBlock(ulong id, BlockRecord block) => Blocks[id] = block;

    public void DeleteBlock(ulong id) => Blocks[id] = null;

    public LocationRecord? GetLocation(ulong blockId, ulong workerId)
    {
        if (Locations.TryGetValue(blockId, out var pending) && pending.TryGetValue(workerId, out var location))
        {
            return location;
        }

        var committed = new List<KeyValuePair<ulong, LocationRecord>>();
        _store.Blocks.ListLocations(blockId, committed);
        foreach (var (worker, record) in committed)
        {
            if (worker == workerId)
            {
                return record;
            }
        }

        return null;
    }

    public List<ulong> ListLocationWorkers(ulong blockId)
    {
        var committed = new List<KeyValuePair<ulong, LocationRecord>>();
        _store.Blocks.ListLocations(blockId, committed);
        var workers = new SortedSet<ulong>();
        foreach (var (worker, _) in committed)
        {
            workers.Add(worker);
        }

        if (Locations.TryGetValue(blockId, out var pending))
        {
            foreach (var (worker, location) in pending)
            {
                if (location is null)
                {
                    workers.Remove(worker);
                }
                else
                {
                    workers.Add(worker);
                }
            }
        }

        return [.. workers];
    }

    public List<ulong> ListWorkerBlocks(ulong workerId)
    {
        var committed = new List<ulong>();
        _store.Blocks.ListWorkerBlocks(workerId, committed);
        if (!WorkerBlocks.TryGetValue(workerId, out var pending))
        {
            return committed;
        }

        var blocks = new SortedSet<ulong>(committed);
        foreach (var (block, present) in pending)
        {
            if (present)
            {
                blocks.Add(block);
            }
            else
            {
                blocks.Remove(block);
            }
        }

        return [.. blocks];
    }

    public void PutLocation(ulong blockId, ulong workerId, LocationRecord location)
    {
        LocationsOf(blockId)[workerId] = location;
        WorkerBlocksOf(workerId)[blockId] = true;
    }

    public void DeleteLocation(ulong blockId, ulong workerId)
    {
        LocationsOf(blockId)[workerId] = null;
        WorkerBlocksOf(workerId)[blockId] = false;
    }

    private Dictionary<ulong, LocationRecord?> LocationsOf(ulong blockId)
    {
        if (!Locations.TryGetValue(blockId, out var map))
        {
            map = [];
            Locations.Add(blockId, map);
        }

        return map;
    }

    private Dictionary<ulong, bool> WorkerBlocksOf(ulong workerId)
    {
        if (!WorkerBlocks.TryGetValue(workerId, out var map))
        {
            map = [];
            WorkerBlocks.Add(workerId, map);
        }

        return map;
    }

    // ---- workers

    public WorkerRecord? GetWorker(ulong id) => Workers.TryGetValue(id, out var worker) ? worker : _store.Blocks.GetWorker(id);

    public WorkerRecord GetWorkerForUpdate(ulong id)
    {
        if (Workers.TryGetValue(id, out var pending) && pending is not null)
        {
            return pending;
        }

        var clone = (_store.Blocks.GetWorker(id) ?? throw new InvalidOperationException($"worker {id} does not exist")).Clone();
        Workers[id] = clone;
        return clone;
    }

    public void PutWorker(WorkerRecord worker) => Workers[worker.Id] = worker;

    public ulong FindWorker(string address) => WorkerAddresses.TryGetValue(address, out var id) ? id : _store.Blocks.FindWorker(address);

    public void PutWorkerAddress(string address, ulong id) => WorkerAddresses[address] = id;

    // ---- sessions

    public SessionRecord? GetSession(string clientId) => Sessions.TryGetValue(clientId, out var session) ? session : _store.GetSession(clientId);

    public void PutSession(SessionRecord session) => Sessions[session.ClientId] = session;

    public void DeleteSession(string clientId) => Sessions[clientId] = null;

    /// <summary>Client ids of every session (committed merged with pending).</summary>
    public List<string> ListSessionIds()
    {
        var ids = new SortedSet<string>(Utf8Order.Instance);
        foreach (var session in _store.EnumerateSessions())
        {
            ids.Add(session.ClientId);
        }

        foreach (var (id, session) in Sessions)
        {
            if (session is null)
            {
                ids.Remove(id);
            }
            else
            {
                ids.Add(id);
            }
        }

        return [.. ids];
    }
}
