using HaMaster.Metadata.Store;
using HaMaster.Protos.V1;

namespace HaMaster.Metadata;

/// <summary>
/// Writes under a mount (issue 18): the leader carries a write out in the mounted store BEFORE it
/// proposes the entry (apply never touches a store), so it first asks what the entry would do
/// (<see cref="Preview"/>); the entry then records what the leader did (the <c>write_through</c>
/// field it sets), and PersistFile records a file a worker or client wrote to the store.
/// docs/ufs-writes.md gives the order of store operation and journal entry for each write and what
/// a crash between them leaves.
/// </summary>
public sealed partial class MetadataStateMachine
{
    /// <summary>
    /// The result <paramref name="entry"/> would have if it were applied now, against the committed
    /// state, without changing anything (sessions are not consulted: a retry of an applied write
    /// previews as its command would run again, e.g. NOT_FOUND for a delete already done). The
    /// leader uses it to skip the store operation of a write the namespace will refuse (missing
    /// path, permission denied, read-only mount...). Safe from any thread; holds the read lock
    /// while the command runs against a private transaction that is then dropped.
    /// </summary>
    public CommandResult Preview(JournalEntry entry)
    {
        ArgumentNullException.ThrowIfNull(entry);
        return Read(store => Execute(new ApplyTransaction(store), entry));
    }

    /// <summary>The fingerprint of a directory that is in the store (loaded or written through).</summary>
    public const string StoreDirectoryFingerprint = DirectoryFingerprint;

    /// <summary>An optional <c>write_through</c> field: absent means on (the default).</summary>
    public static bool WritesThrough(bool hasField, bool value) => !hasField || value;

    /// <summary>
    /// Records that a completed file under a mount is in the store with the fingerprint the leader
    /// read back. Idempotent: a file already persisted with that fingerprint is answered as it is.
    /// </summary>
    private static CommandResult PersistFile(ApplyTransaction tx, JournalEntry entry, PersistFileCommand command)
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
