using Google.Protobuf;
using HaMaster.Protos.V1;
using HaMaster.Raft;

namespace HaMaster.Server.Peers;

/// <summary>Converts the consensus core's plain messages to and from their protobuf wire form.</summary>
internal static class RaftWire
{
    public static RaftMessage ToWire(Message m)
    {
        var wire = new RaftMessage
        {
            Type = (uint)m.Type,
            From = m.From,
            To = m.To,
            Term = m.Term,
            LogTerm = m.LogTerm,
            Index = m.Index,
            Commit = m.Commit,
            Reject = m.Reject,
            RejectHint = m.RejectHint,
            Round = m.Round,
            LeaderTransfer = m.LeaderTransfer,
        };
        if (!m.Context.IsEmpty) wire.Context = ByteString.CopyFrom(m.Context.Span);
        if (m.Snapshot is { } s)
        {
            wire.Snapshot = new RaftSnapshotMeta { Index = s.Index, Term = s.Term, Config = ByteString.CopyFrom(s.Config.ToBytes()) };
        }

        foreach (var e in m.Entries)
        {
            wire.Entries.Add(ToWire(e));
        }

        return wire;
    }

    public static RaftEntry ToWire(Entry e) => new()
    {
        Index = e.Index,
        Term = e.Term,
        Type = (uint)e.Type,
        Data = e.Data.IsEmpty ? ByteString.Empty : UnsafeByteOperations.UnsafeWrap(e.Data),
    };

    /// <summary>Decodes a wire message; throws <see cref="FormatException"/> for values the core cannot accept.</summary>
    public static Message FromWire(RaftMessage w)
    {
        if (w.Type > (uint)MessageType.ReadIndexResponse) throw new FormatException($"unknown Raft message type {w.Type}");
        Entry[] entries = w.Entries.Count == 0 ? [] : new Entry[w.Entries.Count];
        for (var i = 0; i < entries.Length; i++)
        {
            entries[i] = FromWire(w.Entries[i]);
        }

        return new Message
        {
            Type = (MessageType)w.Type,
            From = w.From,
            To = w.To,
            Term = w.Term,
            LogTerm = w.LogTerm,
            Index = w.Index,
            Entries = entries,
            Commit = w.Commit,
            Reject = w.Reject,
            RejectHint = w.RejectHint,
            Round = w.Round,
            LeaderTransfer = w.LeaderTransfer,
            Context = w.Context.IsEmpty ? ReadOnlyMemory<byte>.Empty : w.Context.Memory,
            Snapshot = w.Snapshot is null ? null : new SnapshotMetadata(w.Snapshot.Index, w.Snapshot.Term, ClusterConfig.FromBytes(w.Snapshot.Config.Span)),
        };
    }

    public static Entry FromWire(RaftEntry e)
    {
        if (e.Type > (uint)EntryType.ConfigChange) throw new FormatException($"unknown Raft entry type {e.Type}");
        return new Entry(e.Index, e.Term, (EntryType)e.Type, e.Data.Memory);
    }
}
