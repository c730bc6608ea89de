using System.Buffers.Binary;

namespace HaMaster.Raft;

/// <summary>Kind of a single-server membership change.</summary>
public enum ConfigChangeKind : byte
{
    /// <summary>Add a voter directly. Refused unless the new voter set still has a live, caught-up quorum
    /// (so in practice: add a learner, let it catch up, then promote it).</summary>
    AddVoter = 1,

    /// <summary>Add a non-voting member that receives the log.</summary>
    AddLearner = 2,

    /// <summary>Turn a caught-up learner into a voter.</summary>
    PromoteLearner = 3,

    /// <summary>Remove a voter or learner (a removed leader steps down once the change commits).</summary>
    RemoveNode = 4,
}

/// <summary>A membership change proposed through <see cref="RawNode.ProposeConfigChange"/>.</summary>
public sealed record ConfigChange(ConfigChangeKind Kind, ulong NodeId);

/// <summary>
/// The payload of a <see cref="EntryType.ConfigChange"/> entry: the change and the complete configuration that
/// results from it. Carrying the full result lets a node that joins with an empty configuration (or replays a log
/// whose first entries were compacted) know the membership from the first config entry it sees.
/// </summary>
public sealed record ConfigTransition(ConfigChange Change, ClusterConfig Result)
{
    public byte[] Encode()
    {
        var bytes = new byte[1 + 8 + Result.EncodedLength];
        bytes[0] = (byte)Change.Kind;
        BinaryPrimitives.WriteUInt64LittleEndian(bytes.AsSpan(1), Change.NodeId);
        Result.Encode(bytes.AsSpan(9));
        return bytes;
    }

    public static ConfigTransition Decode(ReadOnlySpan<byte> data)
    {
        if (data.Length < 9) throw new FormatException("Not an encoded ConfigTransition.");
        var kind = (ConfigChangeKind)data[0];
        if (kind is < ConfigChangeKind.AddVoter or > ConfigChangeKind.RemoveNode) throw new FormatException("Unknown config change kind.");
        var node = BinaryPrimitives.ReadUInt64LittleEndian(data[1..]);
        return new ConfigTransition(new ConfigChange(kind, node), ClusterConfig.Decode(data[9..], out _));
    }
}
