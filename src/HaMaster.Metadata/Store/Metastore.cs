using HaMaster.Protos.V1;

namespace HaMaster.Metadata.Store;

/// <summary>
/// The whole replicated state (inode store, block store, sessions, counters) of one kind of storage.
/// <see cref="Commit"/> makes a transaction's changes and its applied index visible atomically.
/// </summary>
/// <remarks>Commit is called only by the apply loop holding the exclusive lock; everything else may
/// be called concurrently under the shared lock (see <see cref="MetadataStateMachine"/>).</remarks>
internal abstract class Metastore : IDisposable
{
    public const ulong RootId = 1;

    /// <summary>Default directory mode 0755.</summary>
    public const uint DefaultDirectoryMode = 0x1ED;

    /// <summary>Default file mode 0644.</summary>
    public const uint DefaultFileMode = 0x1A4;

    public abstract IInodeStore Inodes { get; }

    public abstract IBlockStore Blocks { get; }

    /// <summary>The expiry index of inodes with a time to live.</summary>
    public abstract ITtlIndex TtlIndex { get; }

    /// <summary>Committed counters and applied position (replaced, never mutated, by Commit).</summary>
    public abstract StateRecord State { get; }

    /// <summary>The committed mount table (replaced, never mutated, by Commit).</summary>
    public abstract MountTable Mounts { get; }

    public abstract SessionRecord? GetSession(string clientId);

    /// <summary>Every session in client id (UTF-8) order.</summary>
    public abstract IEnumerable<SessionRecord> EnumerateSessions();

    public abstract void Commit(ApplyTransaction tx);

    /// <summary>Writes a snapshot (a RocksDB database of <see cref="Rocks.RocksMetastore"/>'s format) into a
    /// directory that does not exist yet and returns the state record it holds (its applied index and term).</summary>
    public abstract StateRecord WriteSnapshot(string directory);

    /// <summary>
    /// True when <see cref="WriteSnapshot"/> may run while batches are being committed: the snapshot is
    /// then a consistent image as of some committed batch, and the returned record says which.
    /// False: the caller must keep commits out while it runs.
    /// </summary>
    public abstract bool SnapshotsWhileCommitting { get; }

    public abstract void Dispose();

    /// <summary>The state of an empty namespace: only the root directory (id 1).</summary>
    public static StateRecord InitialState() => new() { NextInodeId = RootId + 1, NextBlockId = 1, NextWorkerId = 1, InodeCount = 1 };

    public static InodeRecord InitialRoot() => new()
    {
        Id = RootId,
        Kind = InodeKind.Directory,
        Owner = "root",
        Group = "root",
        Mode = DefaultDirectoryMode,
    };
}
