using System.Buffers.Binary;

namespace HaMaster.Raft;

/// <summary>
/// A cluster membership: the voters (whose majority decides elections and commits) and the
/// learners (non-voting members that receive the log). Immutable with value semantics; ids are
/// kept sorted and a node is never both a voter and a learner.
/// </summary>
public sealed class ClusterConfig : IEquatable<ClusterConfig>
{
    private readonly ulong[] _voters;
    private readonly ulong[] _learners;

    /// <summary>The empty configuration (a node that has not joined a cluster yet).</summary>
    public static ClusterConfig Empty { get; } = new([], []);

    public ClusterConfig(IEnumerable<ulong> voters, IEnumerable<ulong>? learners = null)
    {
        ArgumentNullException.ThrowIfNull(voters);
        _voters = voters.Distinct().Order().ToArray();
        _learners = (learners ?? []).Distinct().Order().ToArray();
        if (_voters.Contains(0UL) || _learners.Contains(0UL)) throw new ArgumentException("Node id 0 is reserved.");
        if (_voters.Intersect(_learners).Any()) throw new ArgumentException("A node cannot be both voter and learner.");
    }

    /// <summary>Voting members, sorted ascending.</summary>
    public IReadOnlyList<ulong> Voters => _voters;

    /// <summary>Non-voting members, sorted ascending.</summary>
    public IReadOnlyList<ulong> Learners => _learners;

    /// <summary>Votes (or replicas) needed for a decision: a strict majority of the voters.</summary>
    public int Quorum => _voters.Length / 2 + 1;

    public bool IsVoter(ulong id) => Array.BinarySearch(_voters, id) >= 0;
    public bool IsLearner(ulong id) => Array.BinarySearch(_learners, id) >= 0;
    public bool Contains(ulong id) => IsVoter(id) || IsLearner(id);

    /// <summary>Every member, voters first.</summary>
    public IEnumerable<ulong> Members => _voters.Concat(_learners);

    /// <summary>The configuration after applying <paramref name="change"/>; throws if the change does not fit
    /// (callers that need a reason use <see cref="RawNode.ProposeConfigChange"/>, which validates first).</summary>
    public ClusterConfig Apply(ConfigChange change)
    {
        ArgumentNullException.ThrowIfNull(change);
        var id = change.NodeId;
        return change.Kind switch
        {
            ConfigChangeKind.AddVoter => new ClusterConfig(_voters.Append(id), _learners.Where(l => l != id)),
            ConfigChangeKind.AddLearner when !IsVoter(id) => new ClusterConfig(_voters, _learners.Append(id)),
            ConfigChangeKind.PromoteLearner when IsLearner(id) => new ClusterConfig(_voters.Append(id), _learners.Where(l => l != id)),
            ConfigChangeKind.RemoveNode => new ClusterConfig(_voters.Where(v => v != id), _learners.Where(l => l != id)),
            _ => throw new InvalidOperationException($"Cannot apply {change} to {this}."),
        };
    }

    /// <summary>Encoded size in bytes.</summary>
    public int EncodedLength => 1 + 4 + 4 + 8 * (_voters.Length + _learners.Length);

    /// <summary>Writes the configuration (version byte, counts, ids; little-endian) into <paramref name="destination"/>.</summary>
    public int Encode(Span<byte> destination)
    {
        destination[0] = 1;
        BinaryPrimitives.WriteInt32LittleEndian(destination[1..], _voters.Length);
        BinaryPrimitives.WriteInt32LittleEndian(destination[5..], _learners.Length);
        var at = 9;
        foreach (var v in _voters) { BinaryPrimitives.WriteUInt64LittleEndian(destination[at..], v); at += 8; }
        foreach (var l in _learners) { BinaryPrimitives.WriteUInt64LittleEndian(destination[at..], l); at += 8; }
        return at;
    }

    public byte[] ToBytes()
    {
        var bytes = new byte[EncodedLength];
        Encode(bytes);
        return bytes;
    }

    /// <summary>Decodes bytes written by <see cref="Encode"/>; <paramref name="consumed"/> is the length read.</summary>
    public static ClusterConfig Decode(ReadOnlySpan<byte> source, out int consumed)
    {
        if (source.Length < 9 || source[0] != 1) throw new FormatException("Not an encoded ClusterConfig.");
        var voters = BinaryPrimitives.ReadInt32LittleEndian(source[1..]);
        var learners = BinaryPrimitives.ReadInt32LittleEndian(source[5..]);
        if (voters < 0 || learners < 0 || source.Length < 9 + 8L * (voters + learners)) throw new FormatException("Truncated ClusterConfig.");
        var v = new ulong[voters];
        var l = new ulong[learners];
        var at = 9;
        for (var i = 0; i < voters; i++, at += 8) v[i] = BinaryPrimitives.ReadUInt64LittleEndian(source[at..]);
        for (var i = 0; i < learners; i++, at += 8) l[i] = BinaryPrimitives.ReadUInt64LittleEndian(source[at..]);
        consumed = at;
        return new ClusterConfig(v, l);
    }

    public static ClusterConfig FromBytes(ReadOnlySpan<byte> source) => Decode(source, out _);

    public bool Equals(ClusterConfig? other) =>
        other is not null && _voters.AsSpan().SequenceEqual(other._voters) && _learners.AsSpan().SequenceEqual(other._learners);

    public override bool Equals(object? obj) => Equals(obj as ClusterConfig);

    public override int GetHashCode()
    {
        var h = new HashCode();
        foreach (var v in _voters) h.Add(v);
        h.Add(-1);
        foreach (var l in _learners) h.Add(l);
        return h.ToHashCode();
    }

    public static bool operator ==(ClusterConfig? a, ClusterConfig? b) => a is null ? b is null : a.Equals(b);
    public static bool operator !=(ClusterConfig? a, ClusterConfig? b) => !(a == b);

    public override string ToString() => $"voters=[{string.Join(",", _voters)}] learners=[{string.Join(",", _learners)}]";
}
