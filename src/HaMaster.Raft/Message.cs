namespace HaMaster.Raft;

/// <summary>Kind of a peer message.</summary>
public enum MessageType : byte
{
    /// <summary>Pre-vote request (thesis §9.6): Term is the term the sender would campaign in; LogTerm/Index its last entry.</summary>
    PreVote,
    PreVoteResponse,
    /// <summary>Vote request: LogTerm/Index are the candidate's last entry; <see cref="Message.LeaderTransfer"/> marks a transfer campaign.</summary>
    Vote,
    VoteResponse,
    /// <summary>AppendEntries: Index/LogTerm are the entry preceding <see cref="Message.Entries"/>; Commit the leader's commit index.</summary>
    Append,
    /// <summary>Success: Index is the follower's last matching index. Reject: Index echoes the rejected Index,
    /// RejectHint/LogTerm hint the follower's last index whose term is at most the probed term.</summary>
    AppendResponse,
    /// <summary>Leader heartbeat; Commit = min(follower's match, leader commit); Round = leader's heartbeat round.</summary>
    Heartbeat,
    /// <summary>Echoes the heartbeat's Round (confirms leadership for ReadIndex and leases).</summary>
    HeartbeatResponse,
    /// <summary>Install snapshot: only <see cref="Message.Snapshot"/> metadata; the host streams the data itself
    /// and must not deliver the message before the data is available at the receiver.</summary>
    Snapshot,
    /// <summary>Leadership transfer: the receiver campaigns at once (thesis §3.10).</summary>
    TimeoutNow,
    /// <summary>A follower forwards a read request (Context) to its leader.</summary>
    ReadIndex,
    /// <summary>The leader's answer: Index is the read index (Reject = the leader could not serve it).</summary>
    ReadIndexResponse,
}

/// <summary>
/// A message between Raft nodes: plain data the host serializes for the wire. Fields not meaningful for a type are
/// zero/empty. Messages may be dropped, duplicated, delayed or reordered by the network: the core tolerates all of it.
/// </summary>
public sealed record Message
{
    public MessageType Type { get; init; }
    public ulong From { get; init; }
    public ulong To { get; init; }
    public ulong Term { get; init; }
    public ulong LogTerm { get; init; }
    public ulong Index { get; init; }
    public IReadOnlyList<Entry> Entries { get; init; } = [];
    public ulong Commit { get; init; }
    public bool Reject { get; init; }
    public ulong RejectHint { get; init; }
    /// <summary>Heartbeat round (Heartbeat/HeartbeatResponse).</summary>
    public ulong Round { get; init; }
    /// <summary>Vote/PreVote sent because of a leadership transfer: bypasses the receivers' leader lease.</summary>
    public bool LeaderTransfer { get; init; }
    /// <summary>Snapshot metadata (Snapshot messages only).</summary>
    public SnapshotMetadata? Snapshot { get; init; }
    /// <summary>Read request context (ReadIndex/ReadIndexResponse).</summary>
    public ReadOnlyMemory<byte> Context { get; init; }

    public override string ToString() =>
        $"{Type} {From}->{To} t{Term} lt{LogTerm} i{Index} n{Entries.Count} c{Commit}{(Reject ? " reject" : "")}{(Snapshot is null ? "" : $" snap@{Snapshot.Index}")}";
}
