using HaMaster.Metadata.Store;
using HaMaster.Protos.V1;
using static HaMaster.Metadata.Commands.BlockCommands;
using static HaMaster.Metadata.Commands.MountCommands;
using static HaMaster.Metadata.MetadataStateMachine;

namespace HaMaster.Metadata.Commands;

/// <summary>
/// Metadata sync (issue 18): the differences a master found between a store directory and the
/// namespace. Apply never reads a store; it re-checks every difference against the namespace as it
/// is now, so an entry proposed twice (a retry after a failover) or after a concurrent write
/// changes only what still differs, and every replica reaches the same result.
/// </summary>
internal static class SyncCommands
{
    internal static CommandResult SyncMetadata(ApplyTransaction tx, JournalEntry entry, SyncMetadataCommand command)
    {
        if (PathValidator.Validate(command.Path) is { } invalid)
        {
            return Fail(MetadataStatus.InvalidArgument, invalid);
        }

        if (command.Upserts.Count + command.Removed.Count > InputLimits.MaxLoadEntriesPerCommand)
        {
            return Fail(MetadataStatus.InvalidArgument,
                $"{command.Upserts.Count + command.Removed.Count} synced differences, at most {InputLimits.MaxLoadEntriesPerCommand} per command");
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

        if (walk.Last.Kind != InodeKind.Directory)
        {
            return Fail(MetadataStatus.FailedPrecondition, $"{path}: is a file, not a directory");
        }

        var directoryId = walk.Last.Id;
        var counts = new SyncCounts();
        foreach (var name in command.Removed)
        {
            var id = IsLoadableName(name) ? tx.GetChild(directoryId, name) : 0;
            if (id == 0)
            {
                continue;
            }

            var existing = tx.GetInode(id)!;
            if (!existing.Persisted)
            {
                continue; // created through HaMaster and not in the store yet: not the store's to remove
            }

            counts.Deleted += RemoveChild(tx, entry, directoryId, existing);
        }

        foreach (var found in command.Upserts)
        {
            if (found.Kind is not (InodeKind.File or InodeKind.Directory) || !IsLoadableName(found.Name))
            {
                continue; // the proposer filters these; a newer proposer's entry is skipped the same way everywhere
            }

            var existingId = tx.GetChild(directoryId, found.Name);
            if (existingId != 0)
            {
                var existing = tx.GetInode(existingId)!;
                if (!existing.Persisted)
                {
                    continue; // not persisted yet: the store's entry is not its content
                }

                if (existing.Kind == found.Kind)
                {
                    if (existing.Kind == InodeKind.Directory || existing.UfsFingerprint == found.Fingerprint)
                    {
                        continue;
                    }

                    var changed = tx.GetInodeForUpdate(existingId);
                    changed.Length = found.Length;
                    changed.ModificationTimeMs = found.ModificationTimeMs;
                    changed.UfsFingerprint = found.Fingerprint;
                    changed.Completed = true;
                    foreach (var blockId in changed.BlockIds)
                    {
                        RemoveBlock(tx, blockId); // cached blocks hold the old content
                    }

                    changed.BlockIds.Clear();
                    counts.Updated++;
                    continue;
                }

                // The kind changed (a file became a directory or the reverse): replace the subtree.
                RemoveChild(tx, entry, directoryId, existing);
                counts.Updated++;
                AddLoaded(tx, entry, directoryId, found);
                continue;
            }

            AddLoaded(tx, entry, directoryId, found);
            counts.Created++;
        }

        if (command.Complete)
        {
            var directory = tx.GetInodeForUpdate(directoryId);
            directory.ChildrenLoaded = true;
            directory.LastSyncMs = entry.TimeMs;
        }

        return new CommandResult { Status = MetadataStatus.Ok, SyncCounts = counts };
    }

    internal static bool IsLoadableName(string name) =>
        name.Length != 0 && !name.Contains('/', StringComparison.Ordinal) && PathValidator.Check("/" + name) == PathProblem.None;

    internal static ulong RemoveChild(ApplyTransaction tx, JournalEntry entry, ulong directoryId, InodeRecord child)
    {
        var parent = tx.GetInodeForUpdate(directoryId);
        parent.ChildCount--;
        parent.ModificationTimeMs = entry.TimeMs;
        return RemoveSubtree(tx, child);
    }

    internal static void AddLoaded(ApplyTransaction tx, JournalEntry entry, ulong directoryId, LoadedEntry found)
    {
        var parent = tx.GetInodeForUpdate(directoryId);
        parent.ChildCount++;
        var time = found.ModificationTimeMs > 0 ? found.ModificationTimeMs : entry.TimeMs;
        var inode = new InodeRecord
        {
            Id = tx.State.NextInodeId++,
            ParentId = directoryId,
            Name = found.Name,
            Kind = found.Kind,
            // Loaded inodes belong to the directory's owner: the store's own owners mean nothing here.
            Owner = parent.Owner,
            Group = parent.Group,
            Mode = found.Kind == InodeKind.Directory ? Metastore.DefaultDirectoryMode : Metastore.DefaultFileMode,
            CreationTimeMs = time,
            ModificationTimeMs = time,
            Persisted = true,
            UfsFingerprint = found.Fingerprint,
        };
        if (found.Kind == InodeKind.File)
        {
            inode.Length = found.Length;
            inode.Completed = true;
            inode.BlockSizeBytes = entry.DefaultBlockSizeBytes != 0 ? entry.DefaultBlockSizeBytes : FallbackBlockSizeBytes;
        }

        tx.PutInode(inode);
        tx.PutEdge(directoryId, found.Name, inode.Id);
        tx.State.InodeCount++;
    }
}
