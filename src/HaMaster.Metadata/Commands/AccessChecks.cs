using HaMaster.Metadata.Store;
using HaMaster.Protos.V1;
using static HaMaster.Metadata.Commands.CommandDispatch;
using static HaMaster.Metadata.MetadataStateMachine;

namespace HaMaster.Metadata.Commands;

/// <summary>POSIX-style access rights checked against an inode's mode bits.</summary>
[Flags]
internal enum Access
{
    None = 0,
    Execute = 1,
    Write = 2,
    Read = 4,
}

internal static class AccessChecks
{
    /// <summary>
    /// Checks, when the entry's policy enforces permissions, that the caller may traverse every directory
    /// above <paramref name="depth"/> (execute) and has <paramref name="need"/> on the inode at
    /// <paramref name="depth"/> (0 = root, components.Length = the target). Returns null when allowed.
    /// Deterministic: it uses only the entry's caller and policy and the replicated modes.
    /// </summary>
    internal static CommandResult? CheckAccess(ApplyTransaction tx, JournalEntry entry, string path, string[] components, int depth, Access need)
    {
        var policy = entry.Permissions;
        if (policy is null || !policy.Enforce || IsSuperuser(entry.Caller, policy))
        {
            return null;
        }

        var current = tx.GetInode(Metastore.RootId)!;
        for (var level = 0; level <= depth; level++)
        {
            var required = level == depth ? need : Access.Execute;
            if (!Allows(current, entry.Caller, required))
            {
                return Fail(
                    MetadataStatus.PermissionDenied,
                    $"{path}: permission denied: user {entry.Caller?.User ?? string.Empty} lacks {Describe(required)} on {PathValidator.Prefix(components, level)}");
            }

            if (level < depth)
            {
                var child = tx.GetChild(current.Id, components[level]);
                if (child == 0 || tx.GetInode(child) is not { } next)
                {
                    return null; // the walk reports the missing component itself
                }

                current = next;
            }
        }

        return null;
    }

    /// <summary>
    /// A recursive delete removes entries from every directory of the subtree, so (as POSIX rm -r)
    /// the caller needs write+execute on each non-empty directory below the target. Checked before
    /// anything is changed; deterministic (children are visited in name order).
    /// </summary>
    internal static CommandResult? CheckSubtreeDeletable(ApplyTransaction tx, JournalEntry entry, string path, InodeRecord root)
    {
        var policy = entry.Permissions;
        if (policy is null || !policy.Enforce || IsSuperuser(entry.Caller, policy))
        {
            return null;
        }

        var pending = new Stack<(InodeRecord Inode, string Path)>();
        pending.Push((root, path));
        while (pending.Count > 0)
        {
            var (inode, inodePath) = pending.Pop();
            if (inode.Kind != InodeKind.Directory || inode.ChildCount == 0)
            {
                continue;
            }

            if (!Allows(inode, entry.Caller, Access.Write | Access.Execute))
            {
                return Fail(
                    MetadataStatus.PermissionDenied,
                    $"{path}: permission denied: user {entry.Caller?.User ?? string.Empty} lacks write+execute on {inodePath}");
            }

            foreach (var (name, childId) in tx.ListAllChildren(inode.Id))
            {
                if (tx.GetInode(childId) is { } child)
                {
                    pending.Push((child, inodePath == "/" ? "/" + name : inodePath + "/" + name));
                }
            }
        }

        return null;
    }

    /// <summary>Only the owner (or the superuser) may change attributes; only the superuser may change the owner.</summary>
    internal static CommandResult? CheckOwnership(JournalEntry entry, InodeRecord inode, string path, bool changesOwner)
    {
        var policy = entry.Permissions;
        if (policy is null || !policy.Enforce || IsSuperuser(entry.Caller, policy))
        {
            return null;
        }

        var user = entry.Caller?.User ?? string.Empty;
        if (changesOwner)
        {
            return Fail(MetadataStatus.PermissionDenied, $"{path}: permission denied: only the superuser may change the owner");
        }

        return inode.Owner == user ? null : Fail(MetadataStatus.PermissionDenied, $"{path}: permission denied: user {user} is not the owner");
    }

    internal static bool IsSuperuser(Caller? caller, PermissionPolicy policy) =>
        caller is not null
        && ((policy.Superuser.Length > 0 && caller.User == policy.Superuser)
            || (policy.Supergroup.Length > 0 && caller.Groups.Contains(policy.Supergroup)));

    internal static bool Allows(InodeRecord inode, Caller? caller, Access need)
    {
        var user = caller?.User ?? string.Empty;
        uint bits;
        if (inode.Owner == user)
        {
            bits = (inode.Mode >> 6) & 7;
        }
        else if (caller is not null && caller.Groups.Contains(inode.Group))
        {
            bits = (inode.Mode >> 3) & 7;
        }
        else
        {
            bits = inode.Mode & 7;
        }

        return ((Access)bits & need) == need;
    }

    internal static string Describe(Access access) => access switch
    {
        Access.Execute => "execute",
        Access.Write => "write",
        Access.Read => "read",
        Access.Write | Access.Execute => "write+execute",
        _ => access.ToString(),
    };
}
