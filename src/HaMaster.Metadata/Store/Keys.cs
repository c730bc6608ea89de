using System.Buffers.Binary;
using System.Text;

namespace HaMaster.Metadata.Store;

/// <summary>Key encodings of the RocksDB column families: ids are 8 bytes big-endian so that
/// iteration order equals id order; an edge key is parent id + UTF-8 name.</summary>
internal static class Keys
{
    public static byte[] Id(ulong id)
    {
        var key = new byte[8];
        BinaryPrimitives.WriteUInt64BigEndian(key, id);
        return key;
    }

    public static void WriteId(Span<byte> destination, ulong id) => BinaryPrimitives.WriteUInt64BigEndian(destination, id);

    public static ulong ReadId(ReadOnlySpan<byte> source) => BinaryPrimitives.ReadUInt64BigEndian(source);

    public static byte[] Pair(ulong first, ulong second)
    {
        var key = new byte[16];
        BinaryPrimitives.WriteUInt64BigEndian(key, first);
        BinaryPrimitives.WriteUInt64BigEndian(key.AsSpan(8), second);
        return key;
    }

    public static byte[] Edge(ulong parentId, string name)
    {
        var key = new byte[8 + Encoding.UTF8.GetByteCount(name)];
        BinaryPrimitives.WriteUInt64BigEndian(key, parentId);
        Encoding.UTF8.GetBytes(name, key.AsSpan(8));
        return key;
    }

    /// <summary>The smallest edge key strictly after (parent, name): name followed by a 0 byte.</summary>
    public static byte[] EdgeSuccessor(ulong parentId, string name)
    {
        var key = new byte[9 + Encoding.UTF8.GetByteCount(name)];
        BinaryPrimitives.WriteUInt64BigEndian(key, parentId);
        Encoding.UTF8.GetBytes(name, key.AsSpan(8));
        return key;
    }

    /// <summary>Writes an edge key into <paramref name="scratch"/> when it fits (else allocates).</summary>
    public static ReadOnlySpan<byte> Edge(ulong parentId, string name, byte[] scratch)
    {
        var length = 8 + Encoding.UTF8.GetMaxByteCount(name.Length);
        if (length > scratch.Length)
        {
            return Edge(parentId, name);
        }

        BinaryPrimitives.WriteUInt64BigEndian(scratch, parentId);
        var written = Encoding.UTF8.GetBytes(name, scratch.AsSpan(8));
        return scratch.AsSpan(0, 8 + written);
    }

    /// <summary>Serializes a record into <paramref name="scratch"/> when it fits (else allocates).</summary>
    public static ReadOnlySpan<byte> Value(IMessage message, byte[] scratch)
    {
        var size = message.CalculateSize();
        if (size > scratch.Length)
        {
            return message.ToByteArray();
        }

        var span = scratch.AsSpan(0, size);
        message.WriteTo(span);
        return span;
    }

    public static string EdgeName(ReadOnlySpan<byte> key) => Encoding.UTF8.GetString(key[8..]);

    public static byte[] Utf8(string value) => Encoding.UTF8.GetBytes(value);
}
