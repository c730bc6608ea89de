using HaMaster.Protos.V1;

namespace HaMaster.Server.Raft;

/// <summary>
/// Layout of a Normal Raft entry's data: one tag byte, then the payload. The tag separates
/// state-machine commands (journal entries) from host-level entries such as the member
/// directory, without the state machine knowing about the latter. Empty data is the leader's no-op.
/// </summary>
internal static class HostEntry
{
    /// <summary>A <c>hamaster.v1.JournalEntry</c> for the metadata state machine.</summary>
    public const byte JournalTag = 1;

    /// <summary>A <see cref="MemberDirectory"/>: the addresses of every master.</summary>
    public const byte MemberDirectoryTag = 2;

    public static byte[] Encode(byte tag, Google.Protobuf.IMessage message)
    {
        var bytes = new byte[message.CalculateSize() + 1];
        var output = new Google.Protobuf.CodedOutputStream(bytes);
        output.WriteRawTag(tag); // the tag byte, then the message: one buffer, no copy
        message.WriteTo(output);
        output.CheckNoSpaceLeft();
        return bytes;
    }

    public static MemberDirectory DecodeDirectory(ReadOnlySpan<byte> data) => MemberDirectory.Parser.ParseFrom(data[1..]);
}
