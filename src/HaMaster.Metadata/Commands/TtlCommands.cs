using HaMaster.Metadata.Store;
using HaMaster.Protos.V1;
using static HaMaster.Metadata.Commands.NamespaceCommands;
using static HaMaster.Metadata.Commands.BlockCommands;
using static HaMaster.Metadata.Commands.MountCommands;
using static HaMaster.Metadata.MetadataStateMachine;

namespace HaMaster.Metadata.Commands;

/// <summary>
/// Time to live (after Alluxio's InodeTtlChecker): every inode with ttl_ms &gt; 0 is in an expiry index
/// kept with the inodes; the leader's checker reads the due part of it (<see cref="MetadataStateMachine.ListDueTtl"/>) and
/// proposes an <see cref="ExpireTtlCommand"/>, which apply re-checks against the entry's time.
/// </summary>
internal static class TtlCommands
{
    internal static CommandResult? CheckTtlRequest(long ttlMs, TtlAction action)
    {
        if (ttlMs < 0)
        {
            // Same message as before ttl actions existed: old entries replay with the same results.
            return Fail(MetadataStatus.InvalidArgument, "ttl_ms must not be negative");
        }

        return CheckTtlAction(action);
    }

    // Apply checks the action too (unlike InputLimits' other ranges): entries carrying it are all newer
    // than this check, so no old entry replays differently.
    internal static CommandResult? CheckTtlAction(TtlAction action) =>
        InputLimits.CheckTtlAction(action) is { } problem ? Fail(MetadataStatus.InvalidArgument, problem) : null;

    /// <summary>
    /// Acts on the inodes the leader found due. Each is acted on only if it still exists and its expiry
    /// (creation + ttl) is still the one the checker saw and is not after the entry's time: a ttl changed
    /// or cleared meanwhile, an inode deleted meanwhile, or a replay of the same command is skipped, so
    /// the command is idempotent. No permission checks: the master itself expires inodes.
    /// </summary>
    internal static CommandResult ExpireTtl(ApplyTransaction tx, JournalEntry entry, ExpireTtlCommand command)
    {
        var result = new TtlExpiryResult();
        foreach (var item in command.Inodes)
        {
            var inode = tx.GetInode(item.InodeId);
            var expiry = TtlIndexKeys.ExpiryOf(inode);
            if (inode is null || expiry == TtlIndexKeys.None || expiry != item.ExpiryMs || expiry > entry.TimeMs)
            {
                result.Skipped++;
                continue;
            }

            if (inode.TtlAction == TtlAction.Free)
            {
                FreeSubtree(tx, inode, result);
                ClearTtl(tx, inode.Id);
                result.Freed++;
            }
            else if (inode.Id == Metastore.RootId)
            {
                // The root cannot be deleted; its ttl is cleared so the checker does not come back to it.
                ClearTtl(tx, inode.Id);
                result.Skipped++;
            }
            else if (RefusedByMounts(tx, inode) is not null)
            {
                // A mount point inside, or a read-only mount around: a Delete would be refused too. The
                // ttl is cleared so the checker does not come back every round.
                ClearTtl(tx, inode.Id);
                result.Skipped++;
            }
            else
            {
                // As a recursive Delete does (metadata only: under a mount, the store keeps its data).
                var parent = tx.GetInodeForUpdate(inode.ParentId);
                parent.ChildCount--;
                parent.ModificationTimeMs = entry.TimeMs;
                result.RemovedInodes += RemoveSubtree(tx, inode);
                result.Deleted++;
            }
        }

        return new CommandResult { Status = MetadataStatus.Ok, TtlExpiry = result };
    }

    /// <summary>Alluxio clears the ttl of a freed inode (action back to the default), so FREE happens once.</summary>
    internal static void ClearTtl(ApplyTransaction tx, ulong id)
    {
        var updated = tx.GetInodeForUpdate(id);
        updated.TtlMs = 0;
        updated.TtlAction = TtlAction.Delete;
    }

    /// <summary>Forgets the blocks of every file in the subtree (block records and locations), keeping the
    /// inodes with their length. Files still being written or pinned keep their blocks (Alluxio refuses
    /// to free either without force).</summary>
    internal static void FreeSubtree(ApplyTransaction tx, InodeRecord top, TtlExpiryResult result)
    {
        var pending = new Stack<InodeRecord>();
        pending.Push(top);
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
            else if (inode.BlockIds.Count > 0 && inode.Completed && !inode.Pinned)
            {
                foreach (var blockId in inode.BlockIds)
                {
                    RemoveBlock(tx, blockId);
                    result.FreedBlocks++;
                }

                tx.GetInodeForUpdate(inode.Id).BlockIds.Clear();
            }
        }
    }

    /// <summary>Delete's mount rules for an inode known by id (null when none applies).</summary>
    internal static CommandResult? RefusedByMounts(ApplyTransaction tx, InodeRecord inode) =>
        tx.Mounts.IsEmpty ? null : CheckMountedWrite(tx, PathOf(tx, inode), removesPath: true);

    /// <summary>The absolute path of an inode, from its parent links.</summary>
    internal static string PathOf(ApplyTransaction tx, InodeRecord inode)
    {
        var names = new List<string>();
        for (var current = inode; current.Id != Metastore.RootId; current = tx.GetInode(current.ParentId) ?? throw new InvalidOperationException($"parent {current.ParentId} of {current.Id} is missing"))
        {
            names.Add(current.Name);
        }

        names.Reverse();
        return "/" + string.Join('/', names);
    }
}
