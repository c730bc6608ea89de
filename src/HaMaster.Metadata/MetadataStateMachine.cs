using HaMaster.Metadata.Store;
using HaMaster.Metadata.Store.Caching;
using HaMaster.Metadata.Store.Heap;
using HaMaster.Metadata.Store.Rocks;
using HaMaster.Protos.V1;

namespace HaMaster.Metadata;

/// <summary>
/// The replicated metadata state machine: applies committed journal entries (inode tree, blocks,
/// workers, client sessions) and serves reads.
/// </summary>
/// <remarks>
/// <para>Threading contract: <see cref="ApplyBatch"/>, <see cref="ApplyNoop"/> and
/// <see cref="RestoreFromSnapshot"/> are called only from the host's single apply loop (they are
/// also serialized by an internal gate, as are <see cref="CreateSnapshot"/> and <see cref="Digest"/>,
/// which may run on any thread). Reads (GetStatus, ListStatus, ...) may run on any number of threads
/// concurrently with apply.</para>
/// <para>Why a readers-writer lock and not per-inode path locks or RocksDB snapshots: apply computes a
/// whole batch against a private overlay (<see cref="ApplyTransaction"/>) without any lock, and takes
/// the exclusive lock only to publish it (one WriteBatch write plus O(changes) in-memory updates).
/// A read holds the shared lock for one path walk or one listing page (at most
/// <see cref="MetastoreOptions.MaxListLimit"/> entries), so it always sees a state between two
/// batches, and a huge listing - paged by the caller - never holds writers back for longer than one
/// page. RocksDB snapshots alone would not cover the Heap store and the inode cache.</para>
/// </remarks>
public sealed partial class MetadataStateMachine : IDisposable
{
    private const string PointerFile = "CURRENT_DB";

    private readonly Lock _applyGate = new();

    // Held while a snapshot is written (outside _applyGate for the Rocks store, whose checkpoints
    // run concurrently with applying) and by whatever replaces or disposes the store. Order: this, then _applyGate.
    private readonly Lock _snapshotGate = new();
    private readonly ReaderWriterLockSlim _rw = new(LockRecursionPolicy.NoRecursion);
    private readonly string _dataDir;
    private readonly MetastoreOptions _options;
    private Metastore _store;
    private bool _disposed;

    private MetadataStateMachine(string dataDir, MetastoreOptions options, Metastore store)
    {
        _dataDir = dataDir;
        _options = options;
        _store = store;
    }

    /// <summary>Opens (or creates) the state machine in <paramref name="dataDir"/>. Rocks: the database
    /// named by dataDir/CURRENT_DB (leftovers of an interrupted restore are removed). Heap: starts empty
    /// (applied index 0); the host replays its snapshot and log.</summary>
    public static MetadataStateMachine Open(string dataDir, MetastoreOptions options)
    {
        ArgumentException.ThrowIfNullOrEmpty(dataDir);
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        dataDir = Path.GetFullPath(dataDir);
        Directory.CreateDirectory(dataDir);
        if (options.Kind == MetastoreKind.Heap)
        {
            return new MetadataStateMachine(dataDir, options, new HeapMetastore());
        }

        var pointer = Path.Combine(dataDir, PointerFile);
        string current;
        if (File.Exists(pointer))
        {
            current = File.ReadAllText(pointer).Trim();
        }
        else
        {
            current = "db-1";
            WritePointer(dataDir, current);
        }

        foreach (var dir in Directory.EnumerateDirectories(dataDir))
        {
            var name = Path.GetFileName(dir);
            if ((name.StartsWith("db-", StringComparison.Ordinal) && name != current) || name.EndsWith(".tmp", StringComparison.Ordinal))
            {
                Directory.Delete(dir, recursive: true);
            }
        }

        var store = RocksMetastore.Open(Path.Combine(dataDir, current), options.RocksDb, options.InodeCacheMaxEntries, options.SessionCacheMaxEntries);
        return new MetadataStateMachine(dataDir, options, store);
    }

    /// <summary>Index of the last applied entry (0 = none).</summary>
    public ulong AppliedIndex => Volatile.Read(ref _store).State.AppliedIndex;

    /// <summary>Term of the last applied entry.</summary>
    public ulong AppliedTerm => Volatile.Read(ref _store).State.AppliedTerm;

    public MetastoreKind Kind => _options.Kind;

    /// <summary>Inode, block and worker counts of the committed state.</summary>
    public MetadataCounts Counts
    {
        get
        {
            var state = Volatile.Read(ref _store).State;
            return new MetadataCounts(state.InodeCount, state.BlockCount, state.WorkerCount);
        }
    }

    public InodeCacheStatistics InodeCache =>
        Volatile.Read(ref _store).Inodes is CachingInodeStore cache ? new(cache.Hits, cache.Misses, cache.Entries) : default;

    /// <summary>
    /// Applies committed entries in index order as ONE atomic write (effects plus the new applied index
    /// and term), returning one result per entry. Entries at or below the applied index are skipped
    /// (replay after a crash is idempotent); their result is the stored session result if the client's
    /// session still holds it. Called only from the apply loop.
    /// </summary>
    public IReadOnlyList<CommandResult> ApplyBatch(IReadOnlyList<(ulong Index, ulong Term, JournalEntry Entry)> entries)
    {
        ArgumentNullException.ThrowIfNull(entries);
        var results = new CommandResult[entries.Count];
        lock (_applyGate)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            var tx = new ApplyTransaction(_store);
            var changed = false;
            for (var i = 0; i < entries.Count; i++)
            {
                var (index, term, entry) = entries[i];
                ArgumentNullException.ThrowIfNull(entry);
                if (index <= tx.State.AppliedIndex)
                {
                    results[i] = AlreadyApplied(tx, index, entry);
                    continue;
                }

                tx.State.AppliedIndex = index;
                tx.State.AppliedTerm = term;
                results[i] = ApplyEntry(tx, entry);
                changed = true;
            }

            if (changed)
            {
                Publish(tx);
            }
        }

        return results;
    }

    /// <summary>Applies one entry (a batch of one).</summary>
    public CommandResult Apply(ulong index, ulong term, JournalEntry entry) => ApplyBatch([(index, term, entry)])[0];

    /// <summary>Advances the applied position for a Raft entry that carries no command (leader no-op,
    /// configuration change). Ignored when <paramref name="index"/> is already applied.</summary>
    public void ApplyNoop(ulong index, ulong term)
    {
        lock (_applyGate)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            if (index <= _store.State.AppliedIndex)
            {
                return;
            }

            var tx = new ApplyTransaction(_store);
            tx.State.AppliedIndex = index;
            tx.State.AppliedTerm = term;
            Publish(tx);
        }
    }

    /// <summary>
    /// RocksDB memory in bytes: memtables plus the block cache in use (0 for the Heap store or after
    /// disposal). Safe from any thread; reads RocksDB properties only.
    /// </summary>
    public long RocksMemoryBytes
    {
        get
        {
            if (_disposed || Volatile.Read(ref _store) is not RocksMetastore rocks) return 0;
            try
            {
                var db = rocks.Database;
                return (db.GetLongProperty("rocksdb.cur-size-all-mem-tables") ?? 0) + db.BlockCacheUsage;
            }
            catch (ObjectDisposedException)
            {
                return 0; // a restore swapped the store meanwhile
            }
        }
    }

    /// <summary>Flushes RocksDB memtables to SST files (e.g. before measuring disk usage or a backup);
    /// a no-op for the Heap store. Safe at any time.</summary>
    public void Flush()
    {
        lock (_applyGate)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            if (_store is RocksMetastore rocks)
            {
                rocks.Database.Flush();
            }
        }
    }

    public void Dispose()
    {
        lock (_snapshotGate)
        lock (_applyGate)
        {
            if (_disposed)
            {
                return;
            }

            _rw.EnterWriteLock();
            try
            {
                _disposed = true;
                _store.Dispose();
            }
            finally
            {
                _rw.ExitWriteLock();
            }
        }
    }

    private void Publish(ApplyTransaction tx)
    {
        _rw.EnterWriteLock();
        try
        {
            _store.Commit(tx);
        }
        finally
        {
            _rw.ExitWriteLock();
        }
    }

    private static CommandResult AlreadyApplied(ApplyTransaction tx, ulong index, JournalEntry entry)
    {
        var session = entry.Session;
        if (session is { ClientId.Length: > 0 } && tx.GetSession(session.ClientId) is { } record)
        {
            if (entry.BindSessionToCaller && record.Principal.Length > 0 && record.Principal != (entry.Caller?.User ?? ""))
            {
                return Fail(MetadataStatus.PermissionDenied, $"session {session.ClientId} belongs to another caller");
            }

            foreach (var stored in record.Results)
            {
                if (stored.Sequence == session.Sequence)
                {
                    return stored.Result;
                }
            }
        }

        return Fail(MetadataStatus.FailedPrecondition, $"entry {index} was already applied (applied index {tx.State.AppliedIndex}); its result is not retained");
    }

    /// <summary>Runs <paramref name="read"/> under the shared lock against the current store.</summary>
    private T Read<T>(Func<Metastore, T> read)
    {
        _rw.EnterReadLock();
        try
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            return read(_store);
        }
        finally
        {
            _rw.ExitReadLock();
        }
    }

    private static void WritePointer(string dataDir, string current)
    {
        var temp = Path.Combine(dataDir, PointerFile + ".new");
        using (var stream = new FileStream(temp, FileMode.Create, FileAccess.Write))
        {
            stream.Write(System.Text.Encoding.UTF8.GetBytes(current));
            stream.Flush(flushToDisk: true);
        }

        File.Move(temp, Path.Combine(dataDir, PointerFile), overwrite: true);
    }

    internal static CommandResult Fail(MetadataStatus status, string message) => new() { Status = status, Message = message };

    internal static CommandResult Fail((MetadataStatus Status, string Message) failure) => Fail(failure.Status, failure.Message);
}
