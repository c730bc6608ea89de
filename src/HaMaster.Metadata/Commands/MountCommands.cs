using HaMaster.Metadata.Store;
using HaMaster.Protos.V1;
using static HaMaster.Metadata.Commands.NamespaceCommands;
using static HaMaster.Metadata.Commands.BlockCommands;
using static HaMaster.Metadata.Commands.AccessChecks;
using static HaMaster.Metadata.Commands.SyncCommands;
using static HaMaster.Metadata.Commands.CommandDispatch;
using static HaMaster.Metadata.MetadataStateMachine;

namespace HaMaster.Metadata.Commands;

/// <summary>
/// Mount table commands and metadata loaded from mounted stores (issue 18). Apply never reads a
/// store: the store was read by the master that proposed the entry; apply only checks the namespace
/// and the mount table, so every replica reaches the same result.
/// </summary>
internal static class MountCommands
{
    internal static CommandResult Mount(ApplyTransaction tx, JournalEntry entry, MountRequest request)
    {
        if (PathValidator.Validate(request.Path) is { } invalid)
        {
            return Fail(MetadataStatus.InvalidArgument, invalid);
        }

        var path = request.Path;
        if (path == "/")
        {
            return Fail(MetadataStatus.AlreadyExists, "/: the root directory exists and cannot be a mount point");
        }

        if (request.UfsUri.Length == 0)
        {
            return Fail(MetadataStatus.InvalidArgument, "ufs_uri must not be empty");
        }

        var options = request.Options ?? new MountOptions();
        var mounts = tx.Mounts;
        if (mounts.Resolve(path) is { } outer)
        {
            return Fail(MetadataStatus.InvalidArgument, $"{path}: is inside the mount {outer.Mount.Path} (nested mounts are not supported)");
        }

        var components = PathValidator.Split(path);
        var walk = Walk.Resolve(tx, components);
        switch (walk.Outcome)
        {
            case WalkOutcome.Found:
                return Fail(MetadataStatus.AlreadyExists, $"{path}: already exists (a mount point must not exist yet)");
            case WalkOutcome.NotDirectory:
                return Fail(MetadataStatus.FailedPrecondition, walk.NotDirectoryMessage(path, components));
        }

        if (walk.Depth < components.Length - 1)
        {
            return Fail(MetadataStatus.NotFound, MissingParent(path, components));
        }

        if (mounts.Overlapping(request.UfsUri, options.Shared, exceptPath: null) is { } clash)
        {
            return Fail(MetadataStatus.FailedPrecondition,
                $"{request.UfsUri} overlaps {clash.UfsUri} mounted at {clash.Path} (allowed only when both mounts are shared)");
        }

        if (CheckAccess(tx, entry, path, components, walk.Depth, Access.Write | Access.Execute) is { } denied)
        {
            return denied;
        }

        var point = AddChild(tx, entry, walk.Last, components[^1], InodeKind.Directory, Metastore.DefaultDirectoryMode);
        point.Persisted = true;
        point.UfsFingerprint = DirectoryFingerprint;
        var mount = new MountPointRecord
        {
            MountId = point.Id,
            Path = path,
            UfsUri = request.UfsUri,
            ReadOnly = options.ReadOnly,
            Shared = options.Shared,
            MountedAtMs = entry.TimeMs,
        };
        mount.Properties.Add(options.Properties);
        tx.ChangedMounts = mounts.With(mount);
        return new CommandResult { Status = MetadataStatus.Ok, Mount = MountTable.ToInfo(mount) };
    }

    internal static CommandResult Unmount(ApplyTransaction tx, JournalEntry entry, UnmountRequest request)
    {
        if (PathValidator.Validate(request.Path) is { } invalid)
        {
            return Fail(MetadataStatus.InvalidArgument, invalid);
        }

        var path = request.Path;
        if (path == "/")
        {
            return Fail(MetadataStatus.InvalidArgument, "/: the root cannot be unmounted");
        }

        if (tx.Mounts.At(path) is not { } mount)
        {
            return Fail(MetadataStatus.NotFound, $"{path}: is not a mount point");
        }

        var components = PathValidator.Split(path);
        if (CheckAccess(tx, entry, path, components, components.Length - 1, Access.Write | Access.Execute) is { } denied)
        {
            return denied;
        }

        ulong deleted = 0;
        var walk = Walk.Resolve(tx, components);
        if (walk.Outcome == WalkOutcome.Found && walk.Last.Id == mount.MountId)
        {
            var parent = tx.GetInodeForUpdate(walk.Last.ParentId);
            parent.ChildCount--;
            parent.ModificationTimeMs = entry.TimeMs;
            deleted = RemoveSubtree(tx, walk.Last);
        }

        tx.ChangedMounts = tx.Mounts.Without(path);
        return new CommandResult { Status = MetadataStatus.Ok, DeletedCount = deleted };
    }

    internal static CommandResult UpdateMount(ApplyTransaction tx, JournalEntry entry, UpdateMountRequest request)
    {
        if (PathValidator.Validate(request.Path) is { } invalid)
        {
            return Fail(MetadataStatus.InvalidArgument, invalid);
        }

        if (tx.Mounts.At(request.Path) is not { } mount)
        {
            return Fail(MetadataStatus.NotFound, $"{request.Path}: is not a mount point");
        }

        var options = request.Options ?? new MountOptions();
        if (tx.Mounts.Overlapping(mount.UfsUri, options.Shared, exceptPath: mount.Path) is { } clash)
        {
            return Fail(MetadataStatus.FailedPrecondition,
                $"{mount.UfsUri} overlaps {clash.UfsUri} mounted at {clash.Path} (allowed only when both mounts are shared)");
        }

        var components = PathValidator.Split(request.Path);
        if (CheckAccess(tx, entry, request.Path, components, components.Length - 1, Access.Write | Access.Execute) is { } denied)
        {
            return denied;
        }

        var updated = mount.Clone();
        updated.ReadOnly = options.ReadOnly;
        updated.Shared = options.Shared;
        updated.Properties.Clear();
        updated.Properties.Add(options.Properties);
        tx.ChangedMounts = tx.Mounts.With(updated);
        return new CommandResult { Status = MetadataStatus.Ok, Mount = MountTable.ToInfo(updated) };
    }

    /// <summary>
    /// Adds what a master found in a store under a directory. Idempotent: a child that exists with
    /// the same kind and fingerprint is left alone; a file whose fingerprint changed gets the store's
    /// length, time and fingerprint; a child whose kind changed is left for metadata sync.
    /// </summary>
    internal static CommandResult LoadMetadata(ApplyTransaction tx, JournalEntry entry, LoadMetadataCommand command)
    {
        if (PathValidator.Validate(command.Path) is { } invalid)
        {
            return Fail(MetadataStatus.InvalidArgument, invalid);
        }

        if (command.Entries.Count > InputLimits.MaxLoadEntriesPerCommand)
        {
            return Fail(MetadataStatus.InvalidArgument, $"{command.Entries.Count} loaded entries, at most {InputLimits.MaxLoadEntriesPerCommand} per command");
        }

        var path = command.Path;
        if (tx.Mounts.Resolve(path) is not { } resolved || resolved.Mount.MountId != command.MountId)
        {
            return Fail(MetadataStatus.FailedPrecondition, $"{path}: the mount the store was read through (id {command.MountId}) is no longer mounted there");
        }

        var components = PathValidator.Split(path);
        var walk = Walk.Resolve(tx, components);
        if (walk.Outcome != WalkOutcome.Found)
        {
            return Fail(walk.TargetFailure(path, components));
        }

        var directory = walk.Last;
        if (directory.Kind != InodeKind.Directory)
        {
            return Fail(MetadataStatus.FailedPrecondition, $"{path}: is a file, not a directory");
        }

        ulong loaded = 0;
        foreach (var found in command.Entries)
        {
            if (found.Kind is not (InodeKind.File or InodeKind.Directory)
                || found.Name.Length == 0 || found.Name.Contains('/', StringComparison.Ordinal)
                || PathValidator.Check("/" + found.Name) != PathProblem.None)
            {
                continue; // the proposer filters these; an entry from a newer proposer is skipped the same way everywhere
            }

            var existingId = tx.GetChild(directory.Id, found.Name);
            if (existingId != 0)
            {
                var existing = tx.GetInode(existingId)!;
                if (existing.Kind != found.Kind || existing.UfsFingerprint == found.Fingerprint || existing.Kind == InodeKind.Directory)
                {
                    continue;
                }

                if (existing.UfsFingerprint.Length == 0 && !existing.Persisted)
                {
                    continue; // created through HaMaster and not persisted yet: the store's entry is not its content
                }

                var changed = tx.GetInodeForUpdate(existingId);
                changed.Length = found.Length;
                changed.ModificationTimeMs = found.ModificationTimeMs;
                changed.UfsFingerprint = found.Fingerprint;
                changed.Completed = true;
                changed.Persisted = true;
                loaded++;
                continue;
            }

            AddLoaded(tx, entry, directory.Id, found); // the same inode a sync adds (SyncCommands)
            loaded++;
        }

        if (command.ChildrenComplete && !directory.ChildrenLoaded)
        {
            tx.GetInodeForUpdate(directory.Id).ChildrenLoaded = true;
        }

        return new CommandResult { Status = MetadataStatus.Ok, LoadedCount = loaded };
    }

    /// <summary>Refuses a namespace write under a read-only mount (unless it leaves the store alone:
    /// <paramref name="touchesStore"/> false, an alluxio_only delete), or one that would remove or move a mount point.</summary>
    internal static CommandResult? CheckMountedWrite(ApplyTransaction tx, string path, bool removesPath, bool touchesStore = true)
    {
        var mounts = tx.Mounts;
        if (mounts.IsEmpty)
        {
            return null;
        }

        if (removesPath && mounts.FirstAtOrUnder(path) is { } inside)
        {
            return Fail(MetadataStatus.FailedPrecondition,
                inside.Path == path ? $"{path}: is a mount point (unmount it instead)" : $"{path}: contains the mount point {inside.Path} (unmount it first)");
        }

        if (touchesStore && mounts.Resolve(path) is { Mount.ReadOnly: true } readOnly)
        {
            return Fail(MetadataStatus.FailedPrecondition, $"{path}: is under the read-only mount {readOnly.Mount.Path}");
        }

        return null;
    }

    /// <summary>
    /// Directories created under a writable mount were created in the store first (the proposer writes
    /// through before proposing), so they and the ancestors this entry created are persisted.
    /// </summary>
    internal static void MarkWrittenThrough(ApplyTransaction tx, string path, InodeRecord created, ulong firstNewId)
    {
        if (tx.Mounts.IsEmpty || tx.Mounts.Resolve(path) is not { Mount.ReadOnly: false })
        {
            return;
        }

        for (var inode = created; inode.Id >= firstNewId; inode = tx.GetInodeForUpdate(inode.ParentId))
        {
            inode.Persisted = true;
            inode.UfsFingerprint = DirectoryFingerprint;
        }
    }

    /// <summary>A rename may not cross from one mount (or the master's own namespace) into another.</summary>
    internal static CommandResult? CheckMountedRename(ApplyTransaction tx, string src, string dst)
    {
        if (tx.Mounts.IsEmpty)
        {
            return null;
        }

        if ((CheckMountedWrite(tx, src, removesPath: true) ?? CheckMountedWrite(tx, dst, removesPath: false)) is { } refused)
        {
            return refused;
        }

        var from = tx.Mounts.Resolve(src)?.Mount.MountId ?? 0;
        var to = tx.Mounts.Resolve(dst)?.Mount.MountId ?? 0;
        return from == to ? null : Fail(MetadataStatus.FailedPrecondition, $"rename {src} to {dst}: source and destination are in different mounts");
    }

    /// <summary>Deletes an inode and its descendants with their blocks; returns how many inodes went.
    /// The caller updates the parent's child count.</summary>
    internal static ulong RemoveSubtree(ApplyTransaction tx, InodeRecord target)
    {
        ulong deleted = 0;
        var pending = new Stack<InodeRecord>();
        pending.Push(target);
        while (pending.Count > 0)
        {
            var inode = pending.Pop();
            if (inode.Kind == InodeKind.Directory)
            {
                foreach (var (_, childId) in tx.ListAllChildren(inode.Id))
                {
                    pending.Push(tx.GetInode(childId) ?? throw new InvalidOperationException($"child {childId} of {inode.Id} is missing"));
                }
            }
            else
            {
                foreach (var blockId in inode.BlockIds)
                {
                    RemoveBlock(tx, blockId);
                }
            }

            tx.DeleteEdge(inode.ParentId, inode.Name);
            tx.DeleteInode(inode); // the record in hand spares the expiry index a lookup
            deleted++;
        }

        tx.State.InodeCount -= deleted;
        return deleted;
    }
}
