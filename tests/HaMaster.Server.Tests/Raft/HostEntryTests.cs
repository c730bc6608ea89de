using Google.Protobuf;
using HaMaster.Protos.V1;
using HaMaster.Server.Raft;

namespace HaMaster.Server.Tests.Raft;

public sealed class HostEntryTests
{
    private static MemberDirectory Directory() => new()
    {
        Members =
        {
            new MasterAddress { Id = 1, ClientAddress = "a:19200", PeerAddress = "a:19300", WebAddress = "a:19400" },
            new MasterAddress { Id = ulong.MaxValue, ClientAddress = "[::1]:1", PeerAddress = "[::1]:2" },
        },
    };

    [Fact]
    public void Tags_are_distinct_and_non_zero()
    {
        // 0 would be ambiguous with other layouts; equal tags would route directory entries to the state machine.
        Assert.NotEqual(HostEntry.JournalTag, HostEntry.MemberDirectoryTag);
        Assert.NotEqual(0, HostEntry.JournalTag);
        Assert.NotEqual(0, HostEntry.MemberDirectoryTag);
    }

    [Fact]
    public void Directory_entry_is_the_tag_byte_then_the_message()
    {
        var directory = Directory();
        var bytes = HostEntry.Encode(HostEntry.MemberDirectoryTag, directory);
        Assert.Equal(directory.CalculateSize() + 1, bytes.Length);
        Assert.Equal(HostEntry.MemberDirectoryTag, bytes[0]);
        Assert.Equal(directory.ToByteArray(), bytes[1..]);
        Assert.Equal(directory, HostEntry.DecodeDirectory(bytes));
    }

    [Fact]
    public void Journal_entry_is_the_tag_byte_then_the_message()
    {
        var entry = new JournalEntry
        {
            TimeMs = 1_700_000_000_000,
            DefaultBlockSizeBytes = 64 << 20,
            CreateDirectory = new CreateDirectoryRequest { Path = "/a/b", Recursive = true, Mode = 0x1ed },
        };
        var bytes = HostEntry.Encode(HostEntry.JournalTag, entry);
        Assert.Equal(HostEntry.JournalTag, bytes[0]);
        Assert.Equal(entry, JournalEntry.Parser.ParseFrom(bytes.AsSpan(1)));
    }

    [Fact]
    public void Empty_message_encodes_to_the_tag_alone()
    {
        var bytes = HostEntry.Encode(HostEntry.MemberDirectoryTag, new MemberDirectory());
        Assert.Equal([HostEntry.MemberDirectoryTag], bytes);
        Assert.Empty(HostEntry.DecodeDirectory(bytes).Members);
    }

    [Theory]
    [InlineData((byte)0x7f)]
    [InlineData((byte)0x80)]
    [InlineData((byte)0xff)]
    public void Any_tag_value_occupies_exactly_one_byte(byte tag)
    {
        var directory = Directory();
        var bytes = HostEntry.Encode(tag, directory);
        Assert.Equal(tag, bytes[0]);
        Assert.Equal(directory, HostEntry.DecodeDirectory(bytes));
    }

    [Fact]
    public void Truncated_directory_is_refused()
    {
        var bytes = HostEntry.Encode(HostEntry.MemberDirectoryTag, Directory());
        Assert.Throws<InvalidProtocolBufferException>(() => HostEntry.DecodeDirectory(bytes.AsSpan(0, bytes.Length - 3)));
    }
}
