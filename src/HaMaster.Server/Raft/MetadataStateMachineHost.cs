using Google.Protobuf;
using HaMaster.Metadata;
using HaMaster.Protos.V1;
using HaMaster.Raft;

namespace HaMaster.Server.Raft;

/// <summary>
/// Feeds committed Raft entries to the metadata state machine: runs of journal entries go in
/// one <see cref="MetadataStateMachine.ApplyBatch"/> (one RocksDB WriteBatch with the applied
/// index), everything else (leader no-ops, membership and address entries) only advances the
/// applied index. Called only from the Raft loop thread.
/// </summary>
internal sealed class MetadataStateMachineHost : IStateMachineHost<CommandResult>
{
    private readonly MetadataStateMachine _machine;
    private readonly List<(ulong Index, ulong Term, JournalEntry Entry)> _batch = [];

    public MetadataStateMachineHost(MetadataStateMachine machine)
    {
        _machine = machine;
    }

    public ulong AppliedIndex => _machine.AppliedIndex;

    public ulong AppliedTerm => _machine.AppliedTerm;

    public void Apply(IReadOnlyList<Entry> entries, List<AppliedResult<CommandResult>> results)
    {
        _batch.Clear();
        foreach (var e in entries)
        {
            if (e.Index <= _machine.AppliedIndex) continue;
            var data = e.Data.Span;
            if (e.Type == EntryType.Normal && data.Length > 0 && data[0] == HostEntry.JournalTag)
            {
                JournalEntry entry;
                try
                {
                    entry = JournalEntry.Parser.ParseFrom(data[1..]);
                }
                catch (InvalidProtocolBufferException)
                {
                    // Same bytes on every replica, so the same decision everywhere: skip it.
                    Flush(results);
                    _machine.ApplyNoop(e.Index, e.Term);
                    results.Add(new AppliedResult<CommandResult>(e.Index, e.Term, new CommandResult { Status = MetadataStatus.InvalidArgument, Message = "malformed journal entry" }));
                    continue;
                }

                _batch.Add((e.Index, e.Term, entry));
            }
            else
            {
                Flush(results);
                _machine.ApplyNoop(e.Index, e.Term);
                results.Add(new AppliedResult<CommandResult>(e.Index, e.Term, null));
            }
        }

        Flush(results);
    }

    private void Flush(List<AppliedResult<CommandResult>> results)
    {
        if (_batch.Count == 0) return;
        var outcomes = _machine.ApplyBatch(_batch);
        for (var i = 0; i < _batch.Count; i++)
        {
            results.Add(new AppliedResult<CommandResult>(_batch[i].Index, _batch[i].Term, outcomes[i]));
        }

        _batch.Clear();
    }

    public (ulong Index, ulong Term) CreateSnapshot(string directory) => _machine.CreateSnapshot(directory);

    public void RestoreSnapshot(string directory) => _machine.RestoreFromSnapshot(directory);
}
