using System.Text;
using HaMaster.Grpc.Http2.Hpack;

namespace HaMaster.Grpc.Tests.Http2;

/// <summary>Collects decoded fields as Latin-1 strings.</summary>
internal sealed class RecordingSink : IHpackHeaderSink
{
    public List<(string Name, string Value)> Fields { get; } = [];

    public void OnHeader(ReadOnlySpan<byte> name, ReadOnlySpan<byte> value) =>
        Fields.Add((Encoding.Latin1.GetString(name), Encoding.Latin1.GetString(value)));
}

internal static class HpackBlocks
{
    public static byte[] Hex(string hex) => Convert.FromHexString(hex.Replace(" ", "", StringComparison.Ordinal).Replace("\n", "", StringComparison.Ordinal));

    public static List<(string Name, string Value)> Decode(HpackDecoder decoder, byte[] block)
    {
        var sink = new RecordingSink();
        decoder.Decode(block, sink);
        return sink.Fields;
    }

    /// <summary>
    /// Reads the dynamic table newest-first by decoding indexed fields 62, 63, ... (indexed fields never
    /// change the table, so this observes it without disturbing it).
    /// </summary>
    public static List<(string Name, string Value)> DynamicTable(HpackDecoder decoder)
    {
        var entries = new List<(string Name, string Value)>();
        for (var i = 0; i < decoder.DynamicTableCount; i++)
        {
            Assert.True(62 + i < 127, "probe uses single-byte indices only");
            entries.AddRange(Decode(decoder, [(byte)(0x80 | (62 + i))]));
        }

        return entries;
    }

    /// <summary>A literal-without-indexing block with a literal name, each string Huffman-coded.</summary>
    public static byte[] HuffmanLiteralBlock(byte[] name, byte[] value)
    {
        var block = new List<byte> { 0x00 };
        AppendString(block, HuffmanTestEncoder.Encode(name), huffman: true);
        AppendString(block, HuffmanTestEncoder.Encode(value), huffman: true);
        return [.. block];
    }

    public static void AppendString(List<byte> block, byte[] octets, bool huffman)
    {
        AppendInteger(block, octets.Length, 7, huffman ? (byte)0x80 : (byte)0);
        block.AddRange(octets);
    }

    public static void AppendInteger(List<byte> block, int value, int prefixBits, byte flags)
    {
        var max = (1 << prefixBits) - 1;
        if (value < max)
        {
            block.Add((byte)(flags | value));
            return;
        }

        block.Add((byte)(flags | max));
        value -= max;
        while (value >= 0x80)
        {
            block.Add((byte)(0x80 | (value & 0x7F)));
            value >>= 7;
        }

        block.Add((byte)value);
    }
}
