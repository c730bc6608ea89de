using Google.Protobuf;
using HaMaster.Protos.V1;
using HaMaster.Raft;
using HaMaster.Server.Peers;

namespace HaMaster.Server.Tests.Peers;

public sealed class RaftWireTests
{
    public static TheoryData<MessageType> AllTypes()
    {
        var data = new TheoryData<MessageType>();
        foreach (var t in Enum.GetValues<MessageType>()) data.Add(t);
        return data;
    }

    private static Message Full(MessageType type) => new()
    {
        Type = type,
        From = 1,
        To = ulong.MaxValue,
        Term = 7,
        LogTerm = 6,
        Index = 1_000_000_000_123,
        Entries =
        [
            new Entry(41, 5, EntryType.Normal, ReadOnlyMemory<byte>.Empty),
            new Entry(42, 6, EntryType.Normal, new byte[] { 1, 0, 255, 3 }),
            new Entry(43, 6, EntryType.ConfigChange, new byte[] { 9, 8, 7 }),
        ],
        Commit = 40,
        Reject = true,
        RejectHint = 17,
        Round = 99,
        LeaderTransfer = true,
        Context = new byte[] { 0xde, 0xad, 0xbe, 0xef },
        Snapshot = new SnapshotMetadata(30, 4, new ClusterConfig([3, 1, 2], [5, 4])),
    };

    private static void AssertSame(Message expected, Message actual)
    {
        Assert.Equal(expected.Type, actual.Type);
        Assert.Equal(expected.From, actual.From);
        Assert.Equal(expected.To, actual.To);
        Assert.Equal(expected.Term, actual.Term);
        Assert.Equal(expected.LogTerm, actual.LogTerm);
        Assert.Equal(expected.Index, actual.Index);
        Assert.Equal(expected.Commit, actual.Commit);
        Assert.Equal(expected.Reject, actual.Reject);
        Assert.Equal(expected.RejectHint, actual.RejectHint);
        Assert.Equal(expected.Round, actual.Round);
        Assert.Equal(expected.LeaderTransfer, actual.LeaderTransfer);
        Assert.Equal(expected.Context.ToArray(), actual.Context.ToArray());
        Assert.Equal(expected.Entries.Count, actual.Entries.Count);
        for (var i = 0; i < expected.Entries.Count; i++)
        {
            Assert.Equal(expected.Entries[i].Index, actual.Entries[i].Index);
            Assert.Equal(expected.Entries[i].Term, actual.Entries[i].Term);
            Assert.Equal(expected.Entries[i].Type, actual.Entries[i].Type);
            Assert.Equal(expected.Entries[i].Data.ToArray(), actual.Entries[i].Data.ToArray());
        }

        if (expected.Snapshot is null)
        {
            Assert.Null(actual.Snapshot);
        }
        else
        {
            Assert.NotNull(actual.Snapshot);
            Assert.Equal(expected.Snapshot.Index, actual.Snapshot.Index);
            Assert.Equal(expected.Snapshot.Term, actual.Snapshot.Term);
            Assert.Equal(expected.Snapshot.Config, actual.Snapshot.Config);
            Assert.Equal(expected.Snapshot.Config.Voters, actual.Snapshot.Config.Voters);
            Assert.Equal(expected.Snapshot.Config.Learners, actual.Snapshot.Config.Learners);
        }
    }

    /// <summary>Through protobuf bytes, as on the wire, so that field numbers and types matter.</summary>
    private static Message ThroughBytes(Message m) => RaftWire.FromWire(RaftMessage.Parser.ParseFrom(RaftWire.ToWire(m).ToByteArray()));

    [Theory]
    [MemberData(nameof(AllTypes))]
    public void Every_message_type_with_every_field_round_trips(MessageType type)
    {
        var m = Full(type);
        AssertSame(m, ThroughBytes(m));
        AssertSame(m, RaftWire.FromWire(RaftWire.ToWire(m)));
    }

    [Theory]
    [MemberData(nameof(AllTypes))]
    public void Every_message_type_with_default_fields_round_trips(MessageType type)
    {
        var m = new Message { Type = type };
        var back = ThroughBytes(m);
        AssertSame(m, back);
        Assert.Empty(back.Entries);
        Assert.True(back.Context.IsEmpty);
        Assert.Null(back.Snapshot);
    }

    [Fact]
    public void Snapshot_with_an_empty_configuration_and_voters_only_round_trip()
    {
        foreach (var config in new[] { ClusterConfig.Empty, new ClusterConfig([1]), new ClusterConfig([1, 2, 3, 4, 5], [6]) })
        {
            var m = new Message { Type = MessageType.Snapshot, From = 1, To = 2, Term = 3, Snapshot = new SnapshotMetadata(ulong.MaxValue, 2, config) };
            var back = ThroughBytes(m);
            AssertSame(m, back);
            Assert.Equal(config.Quorum, back.Snapshot!.Config.Quorum);
        }
    }

    [Fact]
    public void Wire_fields_carry_the_numeric_enum_values()
    {
        var w = RaftWire.ToWire(Full(MessageType.ReadIndexResponse));
        Assert.Equal((uint)MessageType.ReadIndexResponse, w.Type);
        Assert.Equal((uint)EntryType.ConfigChange, w.Entries[2].Type);
        Assert.True(w.Entries[0].Data.IsEmpty);
        Assert.Equal(new ClusterConfig([1, 2, 3], [4, 5]).ToBytes(), w.Snapshot.Config.ToByteArray());
    }

    [Fact]
    public void Entry_round_trips_alone()
    {
        var e = new Entry(9, 3, EntryType.ConfigChange, new byte[] { 1, 2 });
        var back = RaftWire.FromWire(RaftEntry.Parser.ParseFrom(RaftWire.ToWire(e).ToByteArray()));
        Assert.Equal((e.Index, e.Term, e.Type), (back.Index, back.Term, back.Type));
        Assert.Equal(e.Data.ToArray(), back.Data.ToArray());
    }

    [Theory]
    [InlineData(12u)]
    [InlineData(13u)]
    [InlineData(255u)]
    [InlineData(256u)]
    [InlineData(uint.MaxValue)]
    public void Unknown_message_type_is_a_format_exception(uint type)
    {
        Assert.True(type > (uint)Enum.GetValues<MessageType>().Max());
        var e = Assert.Throws<FormatException>(() => RaftWire.FromWire(new RaftMessage { Type = type }));
        Assert.Contains(type.ToString(System.Globalization.CultureInfo.InvariantCulture), e.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(2u)]
    [InlineData(256u)]
    [InlineData(uint.MaxValue)]
    public void Unknown_entry_type_is_a_format_exception_also_inside_a_message(uint type)
    {
        var entry = new RaftEntry { Index = 1, Term = 1, Type = type };
        var e = Assert.Throws<FormatException>(() => RaftWire.FromWire(entry));
        Assert.Contains(type.ToString(System.Globalization.CultureInfo.InvariantCulture), e.Message, StringComparison.Ordinal);
        var message = new RaftMessage { Type = (uint)MessageType.Append };
        message.Entries.Add(new RaftEntry { Index = 1, Term = 1 });
        message.Entries.Add(entry);
        Assert.Throws<FormatException>(() => RaftWire.FromWire(message));
    }
}
