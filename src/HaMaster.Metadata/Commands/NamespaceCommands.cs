using HaMaster.Metadata.Store;
using HaMaster.Protos.V1;
using FileInfo = HaMaster.Protos.V1.FileInfo;
using static HaMaster.Metadata.Commands.AccessChecks;
using static HaMaster.Metadata.Commands.CommandDispatch;
using static HaMaster.Metadata.Commands.MountCommands;
using static HaMaster.Metadata.Commands.TtlCommands;
using static HaMaster.Metadata.Commands.PersistCommands;
using static HaMaster.Metadata.MetadataStateMachine;

namespace HaMaster.Metadata.Commands;

internal static class NamespaceCommands
{
    internal static CommandResult CreateDirectory(ApplyTransaction tx, JournalEntry entry, CreateDirectoryRequest request)
    {
        if (PathValidator.Validate(request.Path) is { } invalid)
        {
            return Fail(MetadataStatus.InvalidArgument, invalid);
        }

        if (request.Mode > MaxMode)
        {
            return Fail(MetadataStatus.InvalidArgument, ModeOutOfRange(request.Mode));
        }

        if (CheckTtlRequest(request.TtlMs, request.TtlAction) is { } badTtl)
        {
            return badTtl;
        }

        var path = request.Path;
        if (CheckMountedWrite(tx, path, removesPath: false) is { } mounted)
        {
            return mounted;
        }

        var components = PathValidator.Split(path);
        var walk = Walk.Resolve(tx, components);
        switch (walk.Outcome)
        {
            case WalkOutcome.Found:
                return request.Recursive && walk.Last.Kind == InodeKind.Directory
                    ? Info(walk.Last, path)
                    : Fail(MetadataStatus.AlreadyExists, $"{path}: already exists");
            case WalkOutcome.NotDirectory:
                return Fail(MetadataStatus.FailedPrecondition, walk.NotDirectoryMessage(path, components));
        }

        if (walk.Depth < components.Length - 1 && !request.Recursive)
        {
            return Fail(MetadataStatus.NotFound, MissingParent(path, components));
        }

        if (CheckAccess(tx, entry, path, components, walk.Depth, Access.Write | Access.Execute) is { } denied)
        {
            return denied;
        }

        var firstNewId = tx.State.NextInodeId;
        var parent = CreateMissingAncestors(tx, entry, components, walk);
        var mode = request.Mode == 0 ? Metastore.DefaultDirectoryMode : request.Mode;
        var created = AddChild(tx, entry, parent, components[^1], InodeKind.Directory, mode);
        created.TtlMs = request.TtlMs;
        created.TtlAction = request.TtlAction;
        if (WritesThrough(request.HasWriteThrough, request.WriteThrough))
        {
            MarkWrittenThrough(tx, path, created, firstNewId);
        }

        return Info(created, path);
    }

    internal static CommandResult CreateFile(ApplyTransaction tx, JournalEntry entry, CreateFileRequest request)
    {
        if (PathValidator.Validate(request.Path) is { } invalid)
        {
            return Fail(MetadataStatus.InvalidArgument, invalid);
        }

        if (request.Mode > MaxMode)
        {
            return Fail(MetadataStatus.InvalidArgument, ModeOutOfRange(request.Mode));
        }

        if (CheckTtlRequest(request.TtlMs, request.TtlAction) is { } badTtl)
        {
            return badTtl;
        }

        var path = request.Path;
        if (CheckMountedWrite(tx, path, removesPath: false) is { } mounted)
        {
            return mounted;
        }

        var components = PathValidator.Split(path);
        var walk = Walk.Resolve(tx, components);
        switch (walk.Outcome)
        {
            case WalkOutcome.Found:
                return Fail(MetadataStatus.AlreadyExists, $"{path}: already exists");
            case WalkOutcome.NotDirectory:
                return Fail(MetadataStatus.FailedPrecondition, walk.NotDirectoryMessage(path, components));
        }

        if (walk.Depth < components.Length - 1 && !request.Recursive)
        {
            return Fail(MetadataStatus.NotFound, MissingParent(path, components));
        }

        if (CheckAccess(tx, entry, path, components, walk.Depth, Access.Write | Access.Execute) is { } denied)
        {
            return denied;
        }

        var firstNewId = tx.State.NextInodeId;
        var parent = CreateMissingAncestors(tx, entry, components, walk);
        // The leader sets write_through only when it created the parent in the store (older entries
        // lack it): the new ancestors are then persisted; the file never is until PersistFile.
        if (request is { HasWriteThrough: true, WriteThrough: true } && parent.Id >= firstNewId)
        {
            MarkWrittenThrough(tx, path, tx.GetInodeForUpdate(parent.Id), firstNewId);
        }

        var mode = request.Mode == 0 ? Metastore.DefaultFileMode : request.Mode;
        var file = AddChild(tx, entry, parent, components[^1], InodeKind.File, mode);
        file.BlockSizeBytes = request.BlockSizeBytes != 0 ? request.BlockSizeBytes
            : entry.DefaultBlockSizeBytes != 0 ? entry.DefaultBlockSizeBytes : FallbackBlockSizeBytes;
        file.TtlMs = request.TtlMs;
        file.TtlAction = request.TtlAction;
        return Info(file, path);
    }

    internal static CommandResult CompleteFile(ApplyTransaction tx, JournalEntry entry, CompleteFileRequest request)
    {
        if (!TryResolveFile(tx, entry, request.Path, out var file, out var failure))
        {
            return failure;
        }

        var capacity = (ulong)file.BlockIds.Count * file.BlockSizeBytes;
        if (request.Length > capacity)
        {
            return Fail(
                MetadataStatus.InvalidArgument,
                $"{request.Path}: length {request.Length} exceeds the {file.BlockIds.Count} allocated blocks of {file.BlockSizeBytes} bytes");
        }

        var updated = tx.GetInodeForUpdate(file.Id);
        updated.Length = request.Length;
        updated.Completed = true;
        updated.ModificationTimeMs = entry.TimeMs;
        return Info(updated, request.Path);
    }

    internal static CommandResult Delete(ApplyTransaction tx, JournalEntry entry, DeleteRequest request)
    {
        if (PathValidator.Validate(request.Path) is { } invalid)
        {
            return Fail(MetadataStatus.InvalidArgument, invalid);
        }

        var path = request.Path;
        if (path == "/")
        {
            return Fail(MetadataStatus.InvalidArgument, "/: cannot delete the root directory");
        }

        if (CheckMountedWrite(tx, path, removesPath: true, touchesStore: !request.AlluxioOnly) is { } mounted)
        {
            return mounted;
        }

        var components = PathValidator.Split(path);
        var walk = Walk.Resolve(tx, components);
        if (walk.Outcome != WalkOutcome.Found)
        {
            return Fail(walk.TargetFailure(path, components));
        }

        if (CheckAccess(tx, entry, path, components, components.Length - 1, Access.Write | Access.Execute) is { } denied)
        {
            return denied;
        }

        var target = walk.Last;
        if (target.Kind == InodeKind.Directory && target.ChildCount > 0 && !request.Recursive)
        {
            return Fail(MetadataStatus.FailedPrecondition, $"{path}: directory not empty");
        }

        if (target.Kind == InodeKind.Directory && target.ChildCount > 0 && CheckSubtreeDeletable(tx, entry, path, target) is { } subtreeDenied)
        {
            return subtreeDenied;
        }

        var parent = tx.GetInodeForUpdate(target.ParentId);
        parent.ChildCount--;
        parent.ModificationTimeMs = entry.TimeMs;
        var deleted = RemoveSubtree(tx, target);
        return new CommandResult { Status = MetadataStatus.Ok, DeletedCount = deleted };
    }

    internal static CommandResult Rename(ApplyTransaction tx, JournalEntry entry, RenameRequest request)
    {
        if (PathValidator.Validate(request.SrcPath) is { } invalidSource)
        {
            return Fail(MetadataStatus.InvalidArgument, invalidSource);
        }

        if (PathValidator.Validate(request.DstPath) is { } invalidDestination)
        {
            return Fail(MetadataStatus.InvalidArgument, invalidDestination);
        }

        string src = request.SrcPath, dst = request.DstPath;
        if (src == "/")
        {
            return Fail(MetadataStatus.InvalidArgument, "/: cannot rename the root directory");
        }

        if (src != dst && CheckMountedRename(tx, src, dst) is { } mounted)
        {
            return mounted;
        }

        var srcComponents = PathValidator.Split(src);
        var srcWalk = Walk.Resolve(tx, srcComponents);
        if (srcWalk.Outcome != WalkOutcome.Found)
        {
            return Fail(srcWalk.TargetFailure(src, srcComponents));
        }

        var inode = srcWalk.Last;
        if (src == dst)
        {
            return Info(inode, dst);
        }

        if (inode.Kind == InodeKind.Directory && dst.StartsWith(src + "/", StringComparison.Ordinal))
        {
            return Fail(MetadataStatus.FailedPrecondition, $"rename {src} to {dst}: cannot move a directory into itself");
        }

        var dstComponents = PathValidator.Split(dst);
        var dstWalk = Walk.Resolve(tx, dstComponents);
        switch (dstWalk.Outcome)
        {
            case WalkOutcome.Found:
                return Fail(MetadataStatus.AlreadyExists, $"{dst}: already exists");
            case WalkOutcome.NotDirectory:
                return Fail(MetadataStatus.FailedPrecondition, dstWalk.NotDirectoryMessage(dst, dstComponents));
        }

        if (dstWalk.Depth < dstComponents.Length - 1)
        {
            return Fail(MetadataStatus.NotFound, MissingParent(dst, dstComponents));
        }

        if ((CheckAccess(tx, entry, src, srcComponents, srcComponents.Length - 1, Access.Write | Access.Execute)
            ?? CheckAccess(tx, entry, dst, dstComponents, dstComponents.Length - 1, Access.Write | Access.Execute)) is { } denied)
        {
            return denied;
        }

        var oldParent = tx.GetInodeForUpdate(inode.ParentId);
        oldParent.ChildCount--;
        oldParent.ModificationTimeMs = entry.TimeMs;
        var newParent = tx.GetInodeForUpdate(dstWalk.Last.Id);
        newParent.ChildCount++;
        newParent.ModificationTimeMs = entry.TimeMs;
        tx.DeleteEdge(inode.ParentId, inode.Name);
        var moved = tx.GetInodeForUpdate(inode.Id);
        moved.ParentId = newParent.Id;
        moved.Name = dstComponents[^1];
        tx.PutEdge(moved.ParentId, moved.Name, moved.Id);
        return Info(moved, dst);
    }

    internal static CommandResult SetAttribute(ApplyTransaction tx, JournalEntry entry, SetAttributeRequest request)
    {
        if (PathValidator.Validate(request.Path) is { } invalid)
        {
            return Fail(MetadataStatus.InvalidArgument, invalid);
        }

        if (request.HasMode && request.Mode > MaxMode)
        {
            return Fail(MetadataStatus.InvalidArgument, ModeOutOfRange(request.Mode));
        }

        if (request.HasOwner && request.Owner.Length == 0)
        {
            return Fail(MetadataStatus.InvalidArgument, "owner must not be empty");
        }

        if (request.HasGroup && request.Group.Length == 0)
        {
            return Fail(MetadataStatus.InvalidArgument, "group must not be empty");
        }

        if (request.HasTtlMs && request.TtlMs < 0)
        {
            return Fail(MetadataStatus.InvalidArgument, "ttl_ms must not be negative");
        }

        if (request.HasTtlAction && CheckTtlAction(request.TtlAction) is { } badAction)
        {
            return badAction;
        }

        var components = PathValidator.Split(request.Path);
        var walk = Walk.Resolve(tx, components);
        if (walk.Outcome != WalkOutcome.Found)
        {
            return Fail(walk.TargetFailure(request.Path, components));
        }

        if ((CheckAccess(tx, entry, request.Path, components, components.Length - 1, Access.Execute)
            ?? CheckOwnership(entry, walk.Last, request.Path, request.HasOwner)) is { } denied)
        {
            return denied;
        }

        var pending = new Stack<ulong>();
        pending.Push(walk.Last.Id);
        while (pending.Count > 0)
        {
            var inode = tx.GetInodeForUpdate(pending.Pop());
            if (request.HasOwner)
            {
                inode.Owner = request.Owner;
            }

            if (request.HasGroup)
            {
                inode.Group = request.Group;
            }

            if (request.HasMode)
            {
                inode.Mode = request.Mode;
            }

            if (request.HasPinned)
            {
                inode.Pinned = request.Pinned;
            }

            if (request.HasTtlMs)
            {
                inode.TtlMs = request.TtlMs;
            }

            if (request.HasTtlAction)
            {
                inode.TtlAction = request.TtlAction;
            }

            if (request.Recursive && inode.Kind == InodeKind.Directory)
            {
                foreach (var (_, childId) in tx.ListAllChildren(inode.Id))
                {
                    pending.Push(childId);
                }
            }
        }

        return Info(tx.GetInode(walk.Last.Id)!, request.Path);
    }

    /// <summary>Resolves a path that must name a file that is not complete yet.</summary>
    internal static bool TryResolveFile(ApplyTransaction tx, JournalEntry entry, string path, out InodeRecord file, out CommandResult failure)
    {
        file = null!;
        if (PathValidator.Validate(path) is { } invalid)
        {
            failure = Fail(MetadataStatus.InvalidArgument, invalid);
            return false;
        }

        var components = PathValidator.Split(path);
        var walk = Walk.Resolve(tx, components);
        if (walk.Outcome != WalkOutcome.Found)
        {
            failure = Fail(walk.TargetFailure(path, components));
            return false;
        }

        if (CheckAccess(tx, entry, path, components, components.Length, Access.Write) is { } denied)
        {
            failure = denied;
            return false;
        }

        if (walk.Last.Kind != InodeKind.File)
        {
            failure = Fail(MetadataStatus.FailedPrecondition, $"{path}: is a directory, not a file");
            return false;
        }

        if (walk.Last.Completed)
        {
            failure = Fail(MetadataStatus.FailedPrecondition, $"{path}: file is already complete");
            return false;
        }

        file = walk.Last;
        failure = null!;
        return true;
    }

    /// <summary>Creates the directories between the deepest existing ancestor and the target's parent.</summary>
    internal static InodeRecord CreateMissingAncestors(ApplyTransaction tx, JournalEntry entry, string[] components, Walk walk)
    {
        var parent = walk.Last;
        for (var depth = walk.Depth; depth < components.Length - 1; depth++)
        {
            parent = AddChild(tx, entry, parent, components[depth], InodeKind.Directory, Metastore.DefaultDirectoryMode);
        }

        return parent;
    }

    /// <summary>Creates an inode under <paramref name="parent"/> with the next id; owner and group come
    /// from the entry's caller, times from the entry.</summary>
    internal static InodeRecord AddChild(ApplyTransaction tx, JournalEntry entry, InodeRecord parent, string name, InodeKind kind, uint mode)
    {
        var updatedParent = tx.GetInodeForUpdate(parent.Id);
        updatedParent.ChildCount++;
        updatedParent.ModificationTimeMs = entry.TimeMs;
        var caller = entry.Caller;
        var inode = new InodeRecord
        {
            Id = tx.State.NextInodeId++,
            ParentId = parent.Id,
            Name = name,
            Kind = kind,
            Owner = caller?.User ?? string.Empty,
            Group = caller is { Groups.Count: > 0 } ? caller.Groups[0] : string.Empty,
            Mode = mode,
            CreationTimeMs = entry.TimeMs,
            ModificationTimeMs = entry.TimeMs,
        };
        tx.PutInode(inode);
        tx.PutEdge(parent.Id, name, inode.Id);
        tx.State.InodeCount++;
        return inode;
    }

    internal static string MissingParent(string path, string[] components) =>
        $"{path}: parent {PathValidator.Prefix(components, components.Length - 1)} does not exist";

    internal static string ModeOutOfRange(uint mode) => $"mode {Convert.ToString(mode, 8)} is out of range (at most 7777 octal)";

    internal static CommandResult Info(InodeRecord inode, string path) =>
        new() { Status = MetadataStatus.Ok, FileInfo = ToFileInfo(inode, path) };

    internal static FileInfo ToFileInfo(InodeRecord inode, string path)
    {
        var info = new FileInfo
        {
            Id = inode.Id,
            ParentId = inode.ParentId,
            Name = inode.Name,
            Path = path,
            Kind = inode.Kind,
            Owner = inode.Owner,
            Group = inode.Group,
            Mode = inode.Mode,
            CreationTimeMs = inode.CreationTimeMs,
            ModificationTimeMs = inode.ModificationTimeMs,
            Length = inode.Length,
            BlockSizeBytes = inode.BlockSizeBytes,
            Completed = inode.Completed,
            Pinned = inode.Pinned,
            TtlMs = inode.TtlMs,
            TtlAction = inode.TtlAction,
            ChildCount = inode.ChildCount,
            Persisted = inode.Persisted,
            UfsFingerprint = inode.UfsFingerprint,
            LastSyncMs = inode.LastSyncMs,
        };
        info.BlockIds.AddRange(inode.BlockIds);
        return info;
    }
}
