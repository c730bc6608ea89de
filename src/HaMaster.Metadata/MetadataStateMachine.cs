using HaMaster.Metadata.Queries;
using HaMaster.Metadata.Store;
using HaMaster.Protos.V1;
using static HaMaster.Metadata.Commands.NamespaceCommands;
using static HaMaster.Metadata.Commands.CommandDispatch;

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
    private readonly Lock _applyGate = new();

    // Held while a snapshot is written (outside _applyGate for the Rocks store, whose checkpoints
    // run concurrently with applying) and by whatever replaces or disposes the store. Order: this, then _applyGate.
    private readonly Lock _snapshotGate = new();
    private readonly ReaderWriterLockSlim _rw = new(LockRecursionPolicy.NoRecursion);
    private readonly MetastoreHome _home;
    private readonly MetastoreOptions _options;
    private readonly NamespaceReads _reads;
    private Metastore _store;
    private bool _disposed;

    private MetadataStateMachine(MetastoreHome home, MetastoreOptions options, Metastore store)
    {
        _home = home;
        _options = options;
        _store = store;
        _reads = new NamespaceReads(this, options);
    }

    /// <summary>Opens (or creates) the state machine in <paramref name="dataDir"/>: the store
    /// <see cref="MetastoreHome"/> names current (Rocks), or an empty one (Heap: the host replays its
    /// snapshot and log).</summary>
    public static MetadataStateMachine Open(string dataDir, MetastoreOptions options)
    {
        ArgumentException.ThrowIfNullOrEmpty(dataDir);
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        var home = new MetastoreHome(Path.GetFullPath(dataDir), options);
        return new MetadataStateMachine(home, options, home.OpenCurrent());
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
        MetastoreHome.CacheStatistics(Volatile.Read(ref _store));

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
    public long RocksMemoryBytes => _disposed ? 0 : MetastoreHome.MemoryBytes(Volatile.Read(ref _store));

    /// <summary>Flushes RocksDB memtables to SST files (e.g. before measuring disk usage or a backup);
    /// a no-op for the Heap store. Safe at any time.</summary>
    public void Flush()
    {
        lock (_applyGate)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            MetastoreHome.Flush(_store);
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

    internal static CommandResult Fail(MetadataStatus status, string message) => new() { Status = status, Message = message };

    internal static CommandResult Fail((MetadataStatus Status, string Message) failure) => Fail(failure.Status, failure.Message);
}
