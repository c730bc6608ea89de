using HaMaster.Metadata;
using HaMaster.Protos.V1;
using HaMaster.Ufs;

namespace HaMaster.Server.Services;

/// <summary>
/// Writes under a writable mount (issue 18), carried out in the store by the master serving the
/// write (the leader: followers forward writes) BEFORE the entry is proposed; apply never touches a
/// store. Each store step is skipped when the namespace would refuse the entry anyway (the entry is
/// previewed against the committed state: missing path, permission denied, read-only mount...) and
/// is idempotent, so a retry after a crash between the store step and the journal entry, or after
/// a failover, converges. The order and what each crash leaves are written down in docs/ufs-writes.md.
/// Each method rewrites the entry's <c>write_through</c> to what was done; it does nothing outside
/// writable mounts. Safe for concurrent use.
/// </summary>
internal sealed class StoreWriteThrough(MetadataStateMachine machine, MountedStores stores)
{
    /// <summary>The mount and store path of <paramref name="path"/> when it lies strictly under a writable mount.</summary>
    private (MountPointRecord Mount, string StorePath)? WritableMounted(string path) =>
        machine.Mounts.IsEmpty ? null : machine.Mounts.Resolve(path) is { Mount.ReadOnly: false, StorePath.Length: > 0 } resolved ? resolved : null;

    /// <summary>True when <paramref name="path"/> is a directory already in the store (loaded or written
    /// through): mkdir -p of it, or a file created in it, needs no store call.</summary>
    private bool IsStoreDirectory(string path) =>
        machine.GetLoadState(path) is { IsOk: true, Value: { Exists: true, DeepestIsDirectory: true } state }
        && state.Fingerprint == MetadataStateMachine.StoreDirectoryFingerprint;

    private bool WouldSucceed(JournalEntry entry, out CommandResult preview)
    {
        preview = machine.Preview(entry);
        return preview.Status == MetadataStatus.Ok;
    }

    /// <summary>
    /// Store first: mkdirs (idempotent, so a retry never meets ALREADY_EXISTS in the store), then the
    /// entry, which records in <c>write_through</c> whether the store step was done so that apply
    /// marks the new directories persisted only then. A crash in between leaves a store directory
    /// the namespace does not know yet: the next load or sync finds it, a retry succeeds.
    /// </summary>
    public async ValueTask CreateDirectoryAsync(JournalEntry entry, CancellationToken cancellationToken)
    {
        var request = entry.CreateDirectory;
        if (WritableMounted(request.Path) is not { } target) return;
        var done = false;
        if (MetadataStateMachine.WritesThrough(request.HasWriteThrough, request.WriteThrough) && WouldSucceed(entry, out _)
            && !IsStoreDirectory(request.Path))
        {
            await stores.Get(target.Mount).MkdirsAsync(target.StorePath, cancellationToken).ConfigureAwait(false);
            done = true;
        }

        entry.CreateDirectory = request.Clone();
        entry.CreateDirectory.WriteThrough = done;
    }

    /// <summary>
    /// The file's data is written by workers later, so only its missing parent directories are created
    /// in the store (mkdirs, idempotent) before the entry; the file is recorded not persisted until
    /// PersistFile. A crash in between leaves store directories that a load or sync finds.
    /// </summary>
    public async ValueTask CreateFileAsync(JournalEntry entry, CancellationToken cancellationToken)
    {
        var request = entry.CreateFile;
        if (WritableMounted(request.Path) is not { } target) return;
        var done = false;
        if (MetadataStateMachine.WritesThrough(request.HasWriteThrough, request.WriteThrough) && WouldSucceed(entry, out _))
        {
            var parent = request.Path[..request.Path.LastIndexOf('/')];
            var parentStorePath = MountedStores.StorePath(target.Mount, parent);
            if (parentStorePath.Length > 0 && !IsStoreDirectory(parent))
            {
                await stores.Get(target.Mount).MkdirsAsync(parentStorePath, cancellationToken).ConfigureAwait(false);
            }

            done = true;
        }

        entry.CreateFile = request.Clone();
        entry.CreateFile.WriteThrough = done;
    }

    /// <summary>
    /// Store first, then the entry. The store delete is idempotent (nothing there is no error), so
    /// a retry after a crash between the two finds the store entry gone and still journals the
    /// delete. A non-empty store directory without recursive is refused by the store
    /// (FAILED_PRECONDITION) and nothing is journaled. <c>alluxio_only</c> skips the store.
    /// </summary>
    public async ValueTask DeleteAsync(JournalEntry entry, CancellationToken cancellationToken)
    {
        var request = entry.Delete;
        if (request.AlluxioOnly || WritableMounted(request.Path) is not { } target || !WouldSucceed(entry, out _)) return;
        await stores.Get(target.Mount).DeleteAsync(target.StorePath, request.Recursive, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// Store first, then the entry, for a persisted source (one that is only HaMaster's, such as a
    /// file not persisted yet, moves in the namespace alone). A retry after a crash between the two
    /// finds the source gone from the store and still journals the rename; a destination that exists
    /// in the store is refused (ALREADY_EXISTS) and nothing is journaled.
    /// </summary>
    public async ValueTask RenameAsync(JournalEntry entry, CancellationToken cancellationToken)
    {
        var request = entry.Rename;
        if (request.SrcPath == request.DstPath || WritableMounted(request.SrcPath) is not { } source || WritableMounted(request.DstPath) is not { } destination) return;
        if (source.Mount.MountId != destination.Mount.MountId) return; // refused by apply: renames never cross mounts
        var done = false;
        if (MetadataStateMachine.WritesThrough(request.HasWriteThrough, request.WriteThrough) && WouldSucceed(entry, out var preview) && preview.FileInfo.Persisted)
        {
            var store = stores.Get(source.Mount);
            try
            {
                await store.RenameAsync(source.StorePath, destination.StorePath, cancellationToken).ConfigureAwait(false);
            }
            catch (UfsException e) when (e.Kind is UfsErrorKind.NotFound or UfsErrorKind.AlreadyExists)
            {
                // Source still in the store: a real conflict (the destination exists, or its parent is
                // missing); refuse. Source gone: an earlier attempt moved it (the destination then holds
                // it) and stopped before its entry, or it was removed outside HaMaster; either way the
                // namespace follows.
                if (await store.GetStatusAsync(source.StorePath, cancellationToken).ConfigureAwait(false) is not null) throw;
            }

            done = true;
        }

        entry.Rename = request.Clone();
        entry.Rename.WriteThrough = done;
    }
}
