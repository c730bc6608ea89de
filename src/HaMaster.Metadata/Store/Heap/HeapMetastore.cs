using HaMaster.Protos.V1;

namespace HaMaster.Metadata.Store.Heap;

/// <summary>The Heap metastore: everything in memory; snapshots are written in the RocksDB format.</summary>
internal sealed class HeapMetastore : Metastore
{
    private readonly HeapInodeStore _inodes = new();
    private readonly HeapBlockStore _blocks = new();
    private readonly HeapTtlIndex _ttl = new();
    private readonly Dictionary<string, SessionRecord> _sessions = new(StringComparer.Ordinal);
    private StateRecord _state;
    private MountTable _mounts = MountTable.Empty;

    public HeapMetastore()
    {
        _state = InitialState();
        _inodes.Load(InitialRoot());
    }

    public override IInodeStore Inodes => _inodes;

    public override IBlockStore Blocks => _blocks;

    public override ITtlIndex TtlIndex => _ttl;

    public override StateRecord State => _state;

    public override MountTable Mounts => _mounts;

    public override SessionRecord? GetSession(string clientId) => _sessions.GetValueOrDefault(clientId);

    public override IEnumerable<SessionRecord> EnumerateSessions() =>
        _sessions.Values.OrderBy(s => s.ClientId, Utf8Order.Instance).ToArray();

    public override void Commit(ApplyTransaction tx)
    {
        _inodes.Publish(tx);
        _blocks.Publish(tx);
        _ttl.Publish(tx);
        foreach (var (id, session) in tx.Sessions)
        {
            if (session is null)
            {
                _sessions.Remove(id);
            }
            else
            {
                _sessions[id] = session;
            }
        }

        if (tx.ChangedMounts is { } mounts)
        {
            _mounts = mounts;
        }

        _state = tx.State;
    }

    public override StateRecord WriteSnapshot(string directory)
    {
        SnapshotFormat.Export(this, directory);
        return State;
    }

    public override bool SnapshotsWhileCommitting => false;

    public override void Dispose()
    {
    }

    /// <summary>Builds a Heap metastore holding the content of another metastore (snapshot restore).</summary>
    public static HeapMetastore CopyOf(Metastore source)
    {
        var heap = new HeapMetastore();
        foreach (var inode in source.Inodes.EnumerateInodes())
        {
            heap._inodes.Load(inode);
            heap._ttl.Load(inode);
        }

        var locations = new List<KeyValuePair<ulong, LocationRecord>>();
        foreach (var (id, block) in source.Blocks.EnumerateBlocks())
        {
            heap._blocks.LoadBlock(id, block);
            locations.Clear();
            source.Blocks.ListLocations(id, locations);
            foreach (var (workerId, location) in locations)
            {
                heap._blocks.LoadLocation(id, workerId, location);
            }
        }

        foreach (var worker in source.Blocks.EnumerateWorkers())
        {
            heap._blocks.LoadWorker(worker);
        }

        foreach (var session in source.EnumerateSessions())
        {
            heap._sessions[session.ClientId] = session;
        }

        heap._state = source.State;
        heap._mounts = source.Mounts;
        return heap;
    }
}
