using Grpc.Core;
using HaMaster.Metadata;
using HaMaster.Protos.V1;
using HaMaster.Server.Configuration;
using HaMaster.Server.Raft;

namespace HaMaster.Server.Services;

/// <summary>
/// Turns a validated write into a journal entry and replicates it. Time, caller and defaults
/// are fixed here, on the leader, and travel in the entry (apply reads no clock or config).
/// </summary>
internal sealed class JournalProposer
{
    private readonly RaftHost _host;
    private readonly MasterOptions _options;

    public JournalProposer(RaftHost host, MasterOptions options)
    {
        _host = host;
        _options = options;
    }

    /// <summary>Proposes and waits for the applied result; throws the command's failure as a gRPC status.</summary>
    public Task<CommandResult> ProposeAsync(Caller caller, ClientSession? session, Action<JournalEntry> fill, CancellationToken cancellationToken) =>
        ProposeAsync(NewEntry(caller, session, fill), cancellationToken);

    /// <summary>
    /// The entry for a write, with time, caller, session and policy fixed now; a write under a mount
    /// previews it (<see cref="MetadataStateMachine.Preview"/>) before its store operation, then
    /// proposes it with <see cref="ProposeAsync(JournalEntry, CancellationToken)"/>.
    /// </summary>
    public JournalEntry NewEntry(Caller caller, ClientSession? session, Action<JournalEntry> fill)
    {
        var entry = new JournalEntry
        {
            TimeMs = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds(),
            Caller = caller,
            DefaultBlockSizeBytes = (ulong)_options.DefaultBlockSizeBytes,
            // The session (if any) is bound to this caller at apply time (issue 17).
            BindSessionToCaller = true,
        };
        if (session is not null) entry.Session = session;
        if (_options.EnforcePermissions)
        {
            entry.Permissions = new PermissionPolicy { Enforce = true, Superuser = _options.SuperUser, Supergroup = _options.SuperGroup };
        }

        fill(entry);
        return entry;
    }

    /// <summary>Proposes <paramref name="entry"/> and waits for the applied result; throws the command's failure as a gRPC status.</summary>
    public async Task<CommandResult> ProposeAsync(JournalEntry entry, CancellationToken cancellationToken)
    {
        var result = await _host.ProposeAsync(HostEntry.Encode(HostEntry.JournalTag, entry), cancellationToken).ConfigureAwait(false);
        return ServerErrors.EnsureOk(result ?? throw new InvalidOperationException("the applied entry returned no result"));
    }

    /// <summary>Rejects an invalid path before it costs a Raft round trip.</summary>
    public static void CheckPath(string path, string field = "path")
    {
        if (PathValidator.Validate(path) is { } problem) throw ServerErrors.InvalidPath(field, problem);
    }

    /// <summary>Linearizable reads wait for the ReadIndex barrier; stale reads are served as they are.</summary>
    public async Task ReadBarrierAsync(Consistency consistency, CancellationToken cancellationToken)
    {
        if (consistency == Consistency.Stale) return;
        if (consistency != Consistency.Linearizable)
        {
            throw ServerErrors.Status(StatusCode.InvalidArgument, $"consistency {(int)consistency} is not a known value (0 linearizable, 1 stale)");
        }

        // No leader: NotLeaderException, which ServerErrors maps (UNAVAILABLE) with every other failure.
        await _host.ReadBarrierAsync(cancellationToken).ConfigureAwait(false);
    }
}
