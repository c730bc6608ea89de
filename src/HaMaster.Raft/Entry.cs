namespace HaMaster.Raft;

/// <summary>Kind of a log entry.</summary>
public enum EntryType : byte
{
    /// <summary>Opaque command for the state machine. Empty data is the leader's no-op (skip it when applying).</summary>
    Normal = 0,

    /// <summary>Membership change; <see cref="Entry.Data"/> is a <see cref="ConfigTransition"/> encoded by <see cref="ConfigTransition.Encode"/>.</summary>
    ConfigChange = 1,
}

/// <summary>One Raft log entry. A <see cref="EntryType.Normal"/> entry with empty data is the no-op a new leader appends.</summary>
public readonly record struct Entry(ulong Index, ulong Term, EntryType Type, ReadOnlyMemory<byte> Data)
{
    /// <summary>Payload size used for flow control and size limits.</summary>
    public long PayloadSize => Data.Length;
}

/// <summary>State that must be durable (fsync) before any message of the same <see cref="Ready"/> is sent.</summary>
public readonly record struct HardState(ulong Term, ulong Vote, ulong Commit)
{
    public bool IsEmpty => Term == 0 && Vote == 0 && Commit == 0;
}

/// <summary>Describes a snapshot: the state machine after applying every entry up to <see cref="Index"/>
/// (whose term is <see cref="Term"/>), and the cluster configuration in force at that index.</summary>
public sealed record SnapshotMetadata(ulong Index, ulong Term, ClusterConfig Config);
