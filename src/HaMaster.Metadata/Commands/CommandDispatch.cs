using HaMaster.Metadata.Store;
using HaMaster.Protos.V1;
using static HaMaster.Metadata.Commands.NamespaceCommands;
using static HaMaster.Metadata.Commands.BlockCommands;
using static HaMaster.Metadata.Commands.SyncCommands;
using static HaMaster.Metadata.Commands.MountCommands;
using static HaMaster.Metadata.Commands.TtlCommands;
using static HaMaster.Metadata.Commands.PersistCommands;
using static HaMaster.Metadata.MetadataStateMachine;

namespace HaMaster.Metadata.Commands;

internal static class CommandDispatch
{
    internal static CommandResult Execute(ApplyTransaction tx, JournalEntry entry) => entry.CommandCase switch
    {
        JournalEntry.CommandOneofCase.CreateDirectory => CreateDirectory(tx, entry, entry.CreateDirectory),
        JournalEntry.CommandOneofCase.CreateFile => CreateFile(tx, entry, entry.CreateFile),
        JournalEntry.CommandOneofCase.CompleteFile => CompleteFile(tx, entry, entry.CompleteFile),
        JournalEntry.CommandOneofCase.Delete => Delete(tx, entry, entry.Delete),
        JournalEntry.CommandOneofCase.Rename => Rename(tx, entry, entry.Rename),
        JournalEntry.CommandOneofCase.SetAttribute => SetAttribute(tx, entry, entry.SetAttribute),
        JournalEntry.CommandOneofCase.AllocateBlock => AllocateBlock(tx, entry, entry.AllocateBlock),
        JournalEntry.CommandOneofCase.CommitBlock => CommitBlock(tx, entry.CommitBlock),
        JournalEntry.CommandOneofCase.RemoveBlockLocations => RemoveBlockLocations(tx, entry.RemoveBlockLocations),
        JournalEntry.CommandOneofCase.RegisterWorker => RegisterWorker(tx, entry, entry.RegisterWorker),
        JournalEntry.CommandOneofCase.MarkWorkerLost => MarkWorkerLost(tx, entry.MarkWorkerLost),
        JournalEntry.CommandOneofCase.Mount => Mount(tx, entry, entry.Mount),
        JournalEntry.CommandOneofCase.Unmount => Unmount(tx, entry, entry.Unmount),
        JournalEntry.CommandOneofCase.UpdateMount => UpdateMount(tx, entry, entry.UpdateMount),
        JournalEntry.CommandOneofCase.LoadMetadata => LoadMetadata(tx, entry, entry.LoadMetadata),
        JournalEntry.CommandOneofCase.PersistFile => PersistFile(tx, entry, entry.PersistFile),
        JournalEntry.CommandOneofCase.SyncMetadata => SyncMetadata(tx, entry, entry.SyncMetadata),
        JournalEntry.CommandOneofCase.ExpireTtl => ExpireTtl(tx, entry, entry.ExpireTtl),
        JournalEntry.CommandOneofCase.CreateFiles => BulkCommands.CreateFiles(tx, entry, entry.CreateFiles),
        _ => Fail(MetadataStatus.InvalidArgument, "journal entry carries no known command"),
    };

    /// <summary>Exactly-once wrapper (Raft thesis 6.3): a (client, sequence) already applied gets its
    /// stored result back and changes nothing.</summary>
    internal static CommandResult ApplyEntry(ApplyTransaction tx, JournalEntry entry)
    {
        var session = entry.Session;
        CommandResult result;
        if (session is null || session.ClientId.Length == 0)
        {
            result = Execute(tx, entry);
        }
        else if (session.Sequence == 0)
        {
            result = Fail(MetadataStatus.InvalidArgument, $"session {session.ClientId}: sequence must be at least 1");
        }
        else
        {
            result = ApplyWithSession(tx, entry, session);
        }

        SweepSessions(tx, entry.TimeMs);
        return result;
    }

    internal static CommandResult ApplyWithSession(ApplyTransaction tx, JournalEntry entry, ClientSession session)
    {
        var record = tx.GetSession(session.ClientId);

        // A session belongs to the caller that opened it (issue 17): another caller reusing its
        // client_id gets neither its stored answers nor a write applied in its name. Decided from
        // the entry alone (caller and flag were fixed by the proposer), so every replica agrees.
        var principal = entry.BindSessionToCaller ? entry.Caller?.User ?? "" : null;
        if (principal is not null && record is { Principal.Length: > 0 } && record.Principal != principal)
        {
            return Fail(MetadataStatus.PermissionDenied, $"session {session.ClientId} belongs to another caller");
        }

        if (record is not null && session.Sequence <= record.LastSequence)
        {
            foreach (var stored in record.Results)
            {
                if (stored.Sequence == session.Sequence)
                {
                    return stored.Result;
                }
            }

            return Fail(
                MetadataStatus.FailedPrecondition,
                $"session {session.ClientId}: sequence {session.Sequence} was already applied (latest {record.LastSequence}) and its result is no longer retained");
        }

        var result = Execute(tx, entry);
        var updated = record?.Clone() ?? new SessionRecord { ClientId = session.ClientId };
        if (principal is { Length: > 0 } && updated.Principal.Length == 0) updated.Principal = principal;
        updated.LastSequence = session.Sequence;
        updated.LastActiveMs = entry.TimeMs;
        for (var i = updated.Results.Count - 1; i >= 0; i--)
        {
            if (updated.Results[i].Sequence <= session.AcknowledgedThrough)
            {
                updated.Results.RemoveAt(i);
            }
        }

        updated.Results.Add(new SessionResult { Sequence = session.Sequence, Result = result });
        while (updated.Results.Count > SessionResultsPerClient)
        {
            updated.Results.RemoveAt(0);
        }

        tx.PutSession(updated);
        return result;
    }

    internal static void SweepSessions(ApplyTransaction tx, long nowMs)
    {
        if (nowMs - tx.State.LastSessionSweepMs < SessionSweepIntervalMs)
        {
            return;
        }

        tx.State.LastSessionSweepMs = nowMs;
        foreach (var id in tx.ListSessionIds())
        {
            if (tx.GetSession(id) is { } record && record.LastActiveMs + SessionExpiryMs < nowMs)
            {
                tx.DeleteSession(id);
            }
        }
    }
}
