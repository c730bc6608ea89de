using Google.Protobuf;
using HaMaster.Protos.V1;
using HaMaster.Server.Services;

namespace HaMaster.Server.Tests.Services;

public sealed class StrictUtf8Tests
{
    [Fact]
    public void Valid_messages_have_no_finding()
    {
        var request = new SetAttributeRequest { Path = "/a/\uFFFD/\U0001F600", Owner = "alice", Group = "staff", Mode = 0x1ED, Session = new ClientSession { ClientId = "c", Sequence = 3 } };
        Assert.Null(StrictUtf8.FindInvalidField(SetAttributeRequest.Descriptor, request.ToByteArray()));
        Assert.Null(StrictUtf8.FindInvalidField(SetAttributeRequest.Descriptor, []));
    }

    [Theory]
    [InlineData(new byte[] { 0xFF })]
    [InlineData(new byte[] { 0xFE })]
    [InlineData(new byte[] { 0xC3 })]
    [InlineData(new byte[] { 0xC0, 0xAF })]
    [InlineData(new byte[] { 0xED, 0xA0, 0x80 })]
    [InlineData(new byte[] { 0xF4, 0x90, 0x80, 0x80 })]
    public void Invalid_utf8_in_a_top_level_string_is_found_by_its_field_name(byte[] bad)
    {
        var bytes = Concat(Field(1, "/ok"u8.ToArray()), Field(2, [(byte)'a', .. bad]));
        Assert.Equal("owner", StrictUtf8.FindInvalidField(SetAttributeRequest.Descriptor, bytes));

        // Google.Protobuf 3.36 refuses it too, but without saying which field (older stacks
        // decoded it leniently to U+FFFD); the walk names it.
        var parse = Assert.Throws<InvalidProtocolBufferException>(() => SetAttributeRequest.Parser.ParseFrom(bytes));
        Assert.DoesNotContain("owner", parse.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Invalid_utf8_in_a_nested_message_is_found_by_its_dotted_path()
    {
        var session = Concat(Field(1, [0x63, 0xFF]), [0x10, 0x01]);
        var bytes = Concat(Field(1, "/ok"u8.ToArray()), Field(15, session));
        Assert.Equal("session.client_id", StrictUtf8.FindInvalidField(CreateDirectoryRequest.Descriptor, bytes));
    }

    [Fact]
    public void Repeated_message_fields_are_walked()
    {
        var request = new RegisterWorkerRequest { Address = "w:1", Tiers = { new TierUsage { Tier = "MEM", CapacityBytes = 5 } } };
        var bytes = Concat(request.ToByteArray(), Field(2, Field(1, [0x53, 0xFF])));
        Assert.Equal("tiers.tier", StrictUtf8.FindInvalidField(RegisterWorkerRequest.Descriptor, bytes));
    }

    [Fact]
    public void Bytes_fields_and_unknown_fields_are_not_checked()
    {
        // ForwardRequest.request is bytes; field 99 is unknown.
        var bytes = Concat(Field(2, [0xFF, 0xFE]), Field(99, [0xFF]));
        Assert.Null(StrictUtf8.FindInvalidField(ForwardRequest.Descriptor, bytes));
    }

    [Fact]
    public void Other_wire_types_are_skipped_and_a_string_after_them_still_checked()
    {
        // SetAttributeRequest: mode (4, varint), unknown fixed64 (9) and fixed32 (10) fields, an unknown group (8), then owner.
        byte[] group = [(8 << 3) | 3, 0x08, 0x01, (8 << 3) | 4];
        var bytes = Concat(Field(1, "/ok"u8.ToArray()), [0x20, 0xED, 0x03], [(9 << 3) | 1, 1, 2, 3, 4, 5, 6, 7, 8], [(10 << 3) | 5, 1, 2, 3, 4], group, Field(2, [0xFF]));
        Assert.Equal("owner", StrictUtf8.FindInvalidField(SetAttributeRequest.Descriptor, bytes));
    }

    [Fact]
    public void Truncated_or_garbled_bytes_end_the_walk_without_a_finding_or_exception()
    {
        byte[][] garbage = [[0x0A, 0x7F, 0x41], [0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF], [0x0F], [(8 << 3) | 3, 0x08]];
        foreach (var bytes in garbage)
        {
            Assert.Null(StrictUtf8.FindInvalidField(SetAttributeRequest.Descriptor, bytes));
        }
    }

    [Fact]
    public void Messages_without_strings_are_not_walked()
    {
        Assert.False(StrictUtf8.HasStrings(GetBlockInfoRequest.Descriptor));
        Assert.True(StrictUtf8.HasStrings(CreateFileRequest.Descriptor));
        Assert.True(StrictUtf8.HasStrings(WorkerHeartbeatRequest.Descriptor));
    }

    private static byte[] Field(int number, byte[] value)
    {
        using var stream = new MemoryStream();
        var output = new CodedOutputStream(stream);
        output.WriteTag(number, WireFormat.WireType.LengthDelimited);
        output.WriteBytes(ByteString.CopyFrom(value));
        output.Flush();
        return stream.ToArray();
    }

    private static byte[] Concat(params byte[][] parts) => parts.SelectMany(p => p).ToArray();
}
