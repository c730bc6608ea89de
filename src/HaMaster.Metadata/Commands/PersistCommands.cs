using HaMaster.Metadata.Store;
using HaMaster.Protos.V1;
using static HaMaster.Metadata.Commands.NamespaceCommands;
using static HaMaster.Metadata.Commands.AccessChecks;
using static HaMaster.Metadata.Commands.MountCommands;
using static HaMaster.Metadata.MetadataStateMachine;

namespace HaMaster.Metadata.Commands;

/// <summary>
/// Writes under a mount (issue 18): the leader carries a write out in the mounted store BEFORE it
/// proposes the entry (apply never touches a store), so it first asks what the entry would do
/// (<see cref="MetadataStateMachine.Preview"/>); the entry then records what the leader did (the <c>write_through</c>
/// field it sets), and PersistFile records a file a worker or client wrote to the store.
/// docs/ufs-writes.md gives the order of store operation and journal entry for each write and what
/// a crash between them leaves.
/// </summary>
internal static class PersistCommands
{
    /// <summary>
    /// Records that a completed file under a mount is in the store with the fingerprint the leader
    /// read back. Idempotent: a file already persisted with that fingerprint is answered as it is.
    /// </summary>
    internal static CommandResult PersistFile(ApplyTransaction tx, JournalEntry entry, PersistFileCommand command)
    {
        if (PathValidator.Validate(command.Path) is { } invalid)
        {
            return Fail(MetadataStatus.InvalidArgument, invalid);
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

        if (CheckAccess(tx, entry, path, components, components.Length, Access.Write) is { } denied)
        {
            return denied;
        }

        var file = walk.Last;
        if (file.Kind != InodeKind.File)
        {
            return Fail(MetadataStatus.FailedPrecondition, $"{path}: is a directory, not a file");
        }

        if (!file.Completed)
        {
            return Fail(MetadataStatus.FailedPrecondition, $"{path}: file is not complete (complete it before reporting it persisted)");
        }

        if (file.Length != command.Length)
        {
            return Fail(MetadataStatus.FailedPrecondition, $"{path}: the store holds {command.Length} bytes but the file has {file.Length}");
        }

        if (file.Persisted && file.UfsFingerprint == command.Fingerprint)
        {
            return Info(file, path);
        }

        var updated = tx.GetInodeForUpdate(file.Id);
        updated.Persisted = true;
        updated.UfsFingerprint = command.Fingerprint;
        return Info(updated, path);
    }
}
