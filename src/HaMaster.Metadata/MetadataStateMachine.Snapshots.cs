using HaMaster.Metadata.Store;
using HaMaster.Metadata.Store.Rocks;
using HaMaster.Protos.V1;
using static HaMaster.Metadata.Commands.NamespaceCommands;

namespace HaMaster.Metadata;

public sealed partial class MetadataStateMachine
{
    /// <summary>
    /// Writes a snapshot of the applied state into <paramref name="targetDirectory"/> (which must not
    /// exist) and returns the applied index and term it contains. Rocks: a RocksDB checkpoint (hard links)
    /// taken while batches keep being applied, so the returned index may be later than the one applied
    /// when the call started; Heap: a RocksDB database of the same layout, written with applying held off.
    /// Never blocks reads. Safe from any thread; a restore waits for a snapshot in progress.
    /// </summary>
    public (ulong Index, ulong Term) CreateSnapshot(string targetDirectory)
    {
        ArgumentException.ThrowIfNullOrEmpty(targetDirectory);
        targetDirectory = Path.GetFullPath(targetDirectory);
        if (Directory.Exists(targetDirectory) || File.Exists(targetDirectory))
        {
            throw new IOException($"snapshot target {targetDirectory} already exists");
        }

        Directory.CreateDirectory(Path.GetDirectoryName(targetDirectory)!);
        lock (_snapshotGate)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            var store = Volatile.Read(ref _store);
            StateRecord state;
            if (store.SnapshotsWhileCommitting)
            {
                state = store.WriteSnapshot(targetDirectory);
            }
            else
            {
                lock (_applyGate)
                {
                    state = store.WriteSnapshot(targetDirectory);
                }
            }

            return (state.AppliedIndex, state.AppliedTerm);
        }
    }

    /// <summary>
    /// Replaces the whole state with a snapshot directory (from <see cref="CreateSnapshot"/> of either kind).
    /// The snapshot directory is not modified. Rocks: the checkpoint is linked into a new database
    /// directory, opened, and the dataDir/CURRENT_DB pointer is switched with an atomic rename, so a crash
    /// at any point reopens either the old or the new state. Called only from the apply loop.
    /// </summary>
    public (ulong Index, ulong Term) RestoreFromSnapshot(string snapshotDirectory)
    {
        ArgumentException.ThrowIfNullOrEmpty(snapshotDirectory);
        snapshotDirectory = Path.GetFullPath(snapshotDirectory);
        lock (_snapshotGate)
        lock (_applyGate)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            var (replacement, retired) = _home.Install(snapshotDirectory, _store);
            Metastore old;
            _rw.EnterWriteLock();
            try
            {
                old = _store;
                _store = replacement;
            }
            finally
            {
                _rw.ExitWriteLock();
            }

            old.Dispose();
            MetastoreHome.Retire(retired);

            return (replacement.State.AppliedIndex, replacement.State.AppliedTerm);
        }
    }

    /// <summary>
    /// A SHA-256 of the logical state - mount table, inode tree, blocks with locations, workers and id counters -
    /// independent of the store kind, cache and applied index, so chaos tests can compare masters that
    /// applied the same prefix of the log. Sessions are excluded. Cost: a full scan.
    /// </summary>
    public string Digest()
    {
        lock (_applyGate)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            return StateHasher.Compute(_store);
        }
    }

    /// <summary>
    /// Pins the applied state for a <see cref="Digest"/> computed later on any thread, without holding
    /// the apply path: the Rocks store takes a RocksDB snapshot (the apply gate is held only while the
    /// snapshot handle and the applied index are read together, so they match exactly); the Heap store
    /// has no snapshots, so its view hashes under the apply gate when computed (applying waits for it).
    /// Dispose the view when done.
    /// </summary>
    public DigestView BeginDigest()
    {
        lock (_applyGate)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            var store = _store;
            if (store is RocksMetastore rocks)
            {
                var snapshot = rocks.OpenSnapshotReader();
                return new DigestView(store.State, snapshot);
            }

            return new DigestView(store.State, DigestLive);
        }
    }

    /// <summary>The Heap store's digest: hashed live, under the apply gate (applying waits for it).</summary>
    private (ulong AppliedIndex, string Digest) DigestLive()
    {
        lock (_applyGate)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            return (_store.State.AppliedIndex, StateHasher.Compute(_store));
        }
    }
}
