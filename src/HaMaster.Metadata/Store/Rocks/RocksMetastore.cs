using HaMaster.Metadata.Store.Caching;
using HaMaster.Protos.V1;
using HaMaster.Rocks;

namespace HaMaster.Metadata.Store.Rocks;

/// <summary>The RocksDB metastore: one database, one column family per record kind; a commit is one
/// WriteBatch holding a whole applied batch together with the StateRecord (applied index and term).</summary>
/// <remarks>
/// Durability: batches are written with sync=false. The Raft log is the source of truth and is
/// fsynced before entries commit; since the applied index travels in the same atomic batch as the
/// effects, losing the tail of the RocksDB WAL in a power failure only means re-applying those
/// entries from the log, which yields exactly the same state.
/// </remarks>
internal sealed class RocksMetastore : Metastore
{
    private readonly RocksDb _db;
    private readonly RocksColumns _columns;
    private readonly IInodeStore _inodes;
    private readonly RocksBlockStore _blocks;
    private readonly RocksTtlIndex _ttl;
    private readonly RocksDbOptions _options;
    private StateRecord _state;
    private MountTable _mounts;

    private RocksMetastore(RocksDb db, RocksDbOptions options, int inodeCacheEntries, int sessionCacheEntries)
    {
        _maxCachedSessions = sessionCacheEntries;
        _db = db;
        _options = options;
        _columns = new RocksColumns(db);
        var rocksInodes = new RocksInodeStore(db, _columns.Inodes, _columns.Edges);
        _inodes = inodeCacheEntries > 0 ? new CachingInodeStore(rocksInodes, inodeCacheEntries) : rocksInodes;
        _blocks = new RocksBlockStore(db, _columns);
        _ttl = new RocksTtlIndex(db, _columns.TtlBuckets);
        var state = db.Get(RocksColumns.StateKey, _columns.Default);
        if (state is null)
        {
            _state = InitialState();
            using var batch = new WriteBatch();
            var root = InitialRoot();
            batch.Put(Keys.Id(root.Id), root.ToByteArray(), _columns.Inodes);
            batch.Put(RocksColumns.StateKey, _state.ToByteArray(), _columns.Default);
            batch.Put(RocksTtlIndex.BuiltMarkerKey, [], _columns.Default);
            db.Write(batch);
        }
        else
        {
            _state = StateRecord.Parser.ParseFrom(state);
            if (db.Get(RocksTtlIndex.BuiltMarkerKey, _columns.Default) is null)
            {
                BuildTtlIndex();
            }
        }

        _mounts = MountTable.FromBytes(db.Get(RocksColumns.MountsKey, _columns.Default));
    }

    /// <summary>A database (or snapshot) from before the expiry index: derive it from the inodes once.</summary>
    private void BuildTtlIndex()
    {
        using var batch = new WriteBatch();
        RocksTtlIndex.Build(_db, _columns.TtlBuckets, _inodes.EnumerateInodes(), batch, chunk: 10_000);
        batch.Put(RocksTtlIndex.BuiltMarkerKey, [], _columns.Default);
        _db.Write(batch);
    }

    public static RocksMetastore Open(string path, RocksDbOptions options, int inodeCacheEntries, int sessionCacheEntries = 0) =>
        new(RocksDb.Open(path, options, RocksColumns.All), options, inodeCacheEntries, sessionCacheEntries);

    public string Path => _db.Path;

    public RocksDb Database => _db;

    public override IInodeStore Inodes => _inodes;

    public override IBlockStore Blocks => _blocks;

    public override ITtlIndex TtlIndex => _ttl;

    public override StateRecord State => _state;

    public override MountTable Mounts => _mounts;

    public override SessionRecord? GetSession(string clientId)
    {
        lock (_sessionCache)
        {
            if (_sessionCache.TryGetValue(clientId, out var cached)) return cached;
        }

        var value = _db.Get(Keys.Utf8(clientId), _columns.Sessions);
        if (value is null) return null;
        var record = SessionRecord.Parser.ParseFrom(value);
        lock (_sessionCache)
        {
            // Sessions are read by the applying thread, which is also the only writer; a record
            // cached by a commit meanwhile would be the newer one, so it wins.
            if (!_sessionCache.ContainsKey(clientId)) CacheSession(clientId, record);
        }

        return record;
    }

    // Every write looks its client's session up, and the session column family's memtable holds one
    // version of the record per write: a RocksDB lookup there cost ~8% of a follower's CPU under load.
    // Records are immutable once committed, so they are cached as they are written (write-through),
    // bounded by starting over when full; a miss reads RocksDB.
    private readonly int _maxCachedSessions;
    private readonly Dictionary<string, SessionRecord> _sessionCache = new(StringComparer.Ordinal);

    private void CacheSession(string clientId, SessionRecord record)
    {
        if (_maxCachedSessions == 0) return;
        if (_sessionCache.Count >= _maxCachedSessions && !_sessionCache.ContainsKey(clientId))
        {
            // Full: start over, and let the sessions in use fill it again. (Evicting one entry at a
            // time would pick the same dictionary slot every time and pin the first clients forever.)
            _sessionCache.Clear();
        }

        _sessionCache[clientId] = record;
    }

    public override IEnumerable<SessionRecord> EnumerateSessions()
    {
        using var it = _db.NewIterator(_columns.Sessions);
        for (it.SeekToFirst(); it.Valid; it.Next())
        {
            yield return SessionRecord.Parser.ParseFrom(it.Value.ToArray());
        }

        it.ThrowIfError();
    }

    public override void Commit(ApplyTransaction tx)
    {
        using (var batch = new WriteBatch())
        {
            _inodes.Stage(tx, batch);
            _blocks.Stage(tx, batch);
            _ttl.Stage(tx, batch);
            foreach (var (id, session) in tx.Sessions)
            {
                if (session is null)
                {
                    batch.Delete(Keys.Utf8(id), _columns.Sessions);
                }
                else
                {
                    batch.Put(Keys.Utf8(id), session.ToByteArray(), _columns.Sessions);
                }
            }

            if (tx.ChangedMounts is { } mounts)
            {
                batch.Put(RocksColumns.MountsKey, mounts.ToRecord().ToByteArray(), _columns.Default);
            }

            batch.Put(RocksColumns.StateKey, tx.State.ToByteArray(), _columns.Default);
            _db.Write(batch, sync: false);
        }

        _inodes.Publish(tx);
        _blocks.Publish(tx);
        if (tx.Sessions.Count > 0)
        {
            lock (_sessionCache)
            {
                foreach (var (id, session) in tx.Sessions)
                {
                    if (session is null) _sessionCache.Remove(id);
                    else CacheSession(id, session);
                }
            }
        }

        if (tx.ChangedMounts is { } changed)
        {
            _mounts = changed;
        }

        _state = tx.State;
    }

    /// <summary>
    /// A RocksDB checkpoint, taken while batches keep being committed: RocksDB makes it a consistent
    /// image as of one write, and since every commit is one WriteBatch carrying its StateRecord, the
    /// record read back from the checkpoint names exactly the applied index it holds. Memtables are
    /// flushed first (in RocksDB's background threads, writes continue meanwhile), so the checkpoint
    /// carries almost no WAL: opening it here and on a master that installs it replays next to nothing.
    /// </summary>
    public override StateRecord WriteSnapshot(string directory)
    {
        _db.CreateCheckpoint(directory);
        using var checkpoint = RocksDb.Open(directory, _options with { CreateIfMissing = false, BlockCacheBytes = 0 }, RocksColumns.All);
        var state = checkpoint.Get(RocksColumns.StateKey, new RocksColumns(checkpoint).Default)
            ?? throw new InvalidDataException($"checkpoint {directory} has no state record");
        return StateRecord.Parser.ParseFrom(state);
    }

    public override bool SnapshotsWhileCommitting => true;

    /// <summary>Replaces this (freshly created) database's content with <paramref name="source"/>'s.</summary>
    public void Import(Metastore source)
    {
        const int chunk = 10_000;
        var batch = new WriteBatch();
        try
        {
            void MaybeFlush()
            {
                if (batch.Count >= chunk)
                {
                    _db.Write(batch);
                    batch.Clear();
                }
            }

            foreach (var inode in source.Inodes.EnumerateInodes())
            {
                batch.Put(Keys.Id(inode.Id), inode.ToByteArray(), _columns.Inodes);
                if (inode.Id != RootId)
                {
                    batch.Put(Keys.Edge(inode.ParentId, inode.Name), Keys.Id(inode.Id), _columns.Edges);
                }

                MaybeFlush();
            }

            var locations = new List<KeyValuePair<ulong, LocationRecord>>();
            foreach (var (id, block) in source.Blocks.EnumerateBlocks())
            {
                batch.Put(Keys.Id(id), block.ToByteArray(), _columns.Blocks);
                locations.Clear();
                source.Blocks.ListLocations(id, locations);
                foreach (var (workerId, location) in locations)
                {
                    batch.Put(Keys.Pair(id, workerId), location.ToByteArray(), _columns.Locations);
                    batch.Put(Keys.Pair(workerId, id), [], _columns.WorkerBlocks);
                }

                MaybeFlush();
            }

            foreach (var worker in source.Blocks.EnumerateWorkers())
            {
                batch.Put(Keys.Id(worker.Id), worker.ToByteArray(), _columns.Workers);
                batch.Put(Keys.Utf8(worker.Address), Keys.Id(worker.Id), _columns.WorkerAddresses);
                MaybeFlush();
            }

            foreach (var session in source.EnumerateSessions())
            {
                batch.Put(Keys.Utf8(session.ClientId), session.ToByteArray(), _columns.Sessions);
                MaybeFlush();
            }

            if (!source.Mounts.IsEmpty)
            {
                batch.Put(RocksColumns.MountsKey, source.Mounts.ToRecord().ToByteArray(), _columns.Default);
            }

            // The expiry index is derived from the inodes (whatever kind of store the source is).
            RocksTtlIndex.Build(_db, _columns.TtlBuckets, source.Inodes.EnumerateInodes(), batch, chunk);
            batch.Put(RocksTtlIndex.BuiltMarkerKey, [], _columns.Default);
            batch.Put(RocksColumns.StateKey, source.State.ToByteArray(), _columns.Default);
            _db.Write(batch);
            _state = source.State;
            _mounts = source.Mounts;
            _db.Flush();
        }
        finally
        {
            batch.Dispose();
        }
    }

    /// <summary>A RocksDB snapshot of the metastore with the record scans the digest needs.</summary>
    public SnapshotReader OpenSnapshotReader() => new(_db, _columns);

    /// <summary>Reads the metastore's records as of one RocksDB snapshot (same order as the live scans).</summary>
    internal sealed class SnapshotReader : IDisposable
    {
        private readonly RocksDb _db;
        private readonly RocksColumns _columns;
        private readonly RocksSnapshot _snapshot;

        public SnapshotReader(RocksDb db, RocksColumns columns)
        {
            _db = db;
            _columns = columns;
            _snapshot = db.CreateSnapshot();
        }

        public MountTable ReadMounts() => MountTable.FromBytes(_db.Get(RocksColumns.MountsKey, _columns.Default, _snapshot));

        public IEnumerable<InodeRecord> EnumerateInodes()
        {
            using var it = _db.NewIterator(_columns.Inodes, _snapshot);
            for (it.SeekToFirst(); it.Valid; it.Next())
            {
                yield return InodeRecord.Parser.ParseFrom(it.Value.ToArray());
            }

            it.ThrowIfError();
        }

        public IEnumerable<(ulong Id, BlockRecord Block)> EnumerateBlocks()
        {
            using var it = _db.NewIterator(_columns.Blocks, _snapshot);
            for (it.SeekToFirst(); it.Valid; it.Next())
            {
                yield return (Keys.ReadId(it.Key), BlockRecord.Parser.ParseFrom(it.Value.ToArray()));
            }

            it.ThrowIfError();
        }

        public void ListLocations(ulong blockId, List<KeyValuePair<ulong, LocationRecord>> into)
        {
            var lower = Keys.Id(blockId);
            using var it = _db.NewIterator(_columns.Locations, _snapshot, lowerBound: lower, upperBound: blockId == ulong.MaxValue ? null : Keys.Id(blockId + 1));
            for (it.Seek(lower); it.Valid; it.Next())
            {
                into.Add(new(Keys.ReadId(it.Key[8..]), LocationRecord.Parser.ParseFrom(it.Value.ToArray())));
            }

            it.ThrowIfError();
        }

        public IEnumerable<WorkerRecord> EnumerateWorkers()
        {
            using var it = _db.NewIterator(_columns.Workers, _snapshot);
            for (it.SeekToFirst(); it.Valid; it.Next())
            {
                yield return WorkerRecord.Parser.ParseFrom(it.Value.ToArray());
            }

            it.ThrowIfError();
        }

        public void Dispose() => _snapshot.Dispose();
    }

    public override void Dispose() => _db.Dispose();
}
