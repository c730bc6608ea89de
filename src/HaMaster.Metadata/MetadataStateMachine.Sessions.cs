using HaMaster.Metadata.Store;
using HaMaster.Protos.V1;

namespace HaMaster.Metadata;

public sealed partial class MetadataStateMachine
{
    /// <summary>Results kept per client (a client has at most this many writes in flight).
    /// A constant, not an option: it changes apply results, so every replica must agree.</summary>
    internal const int SessionResultsPerClient = 64;

    /// <summary>A client silent for this long (in entry time) loses its session.</summary>
    internal const long SessionExpiryMs = 60 * 60 * 1000;

    /// <summary>How often (in entry time) expired sessions are swept.</summary>
    internal const long SessionSweepIntervalMs = 60 * 1000;

    /// <summary>Exactly-once wrapper (Raft thesis 6.3): a (client, sequence) already applied gets its
    /// stored result back and changes nothing.</summary>
    private static CommandResult ApplyEntry(ApplyTransaction tx, JournalEntry entry)
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

    private static CommandResult ApplyWithSession(ApplyTransaction tx, JournalEntry entry, ClientSession session)
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

    private static void SweepSessions(ApplyTransaction tx, long nowMs)
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
