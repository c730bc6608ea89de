using System.Buffers.Binary;

namespace HaMaster.Journal;

/// <summary>
/// On-disk framing. A segment starts with a 32-byte file header:
/// <c>magic u64 | seq u64 | firstIndex u64 | crc32c(bytes 0..24) u32 | zero u32</c>.
/// Then records, each 8-byte aligned:
/// <c>crc32c u32 | payloadLength u32 | index u64 | term u64 | kind u8 | 0 u8[3] | marker u32 | payload | zero padding</c>,
/// the CRC covering header bytes 4..32 and the payload. Preallocated space is zeros, so an
/// all-zero header marks the end of the written log; indexes start at 1, so a real header is never all zeros.
/// All integers little-endian.
/// </summary>
internal static class RecordFormat
{
    public const int SegmentHeaderBytes = 32;
    public const int RecordHeaderBytes = 32;
    public const ulong SegmentMagic = 0x31304745534A4D48UL; // "HMJSEG01"
    public const uint RecordMarker = 0xA5C31E0Fu;

    public static int EncodedSize(int payloadLength) => (RecordHeaderBytes + payloadLength + 7) & ~7;

    /// <summary>Writes one record (header, payload, padding) into <paramref name="destination"/>, which must be <see cref="EncodedSize"/> long.</summary>
    public static void Encode(Span<byte> destination, in LogRecord record)
    {
        var payload = record.Payload.Span;
        BinaryPrimitives.WriteUInt32LittleEndian(destination[4..], (uint)payload.Length);
        BinaryPrimitives.WriteUInt64LittleEndian(destination[8..], record.Index);
        BinaryPrimitives.WriteUInt64LittleEndian(destination[16..], record.Term);
        destination[24] = record.Kind;
        destination[25] = 0;
        destination[26] = 0;
        destination[27] = 0;
        BinaryPrimitives.WriteUInt32LittleEndian(destination[28..], RecordMarker);
        payload.CopyTo(destination[RecordHeaderBytes..]);
        var end = RecordHeaderBytes + payload.Length;
        destination[end..].Clear();
        var crc = ~Crc32C.Update(Crc32C.Update(~0u, destination[4..RecordHeaderBytes]), payload);
        BinaryPrimitives.WriteUInt32LittleEndian(destination, crc);
    }

    public readonly record struct Header(uint Crc, int PayloadLength, ulong Index, ulong Term, byte Kind, uint Marker);

    public static Header ReadHeader(ReadOnlySpan<byte> source) => new(
        BinaryPrimitives.ReadUInt32LittleEndian(source),
        (int)Math.Min(int.MaxValue, BinaryPrimitives.ReadUInt32LittleEndian(source[4..])),
        BinaryPrimitives.ReadUInt64LittleEndian(source[8..]),
        BinaryPrimitives.ReadUInt64LittleEndian(source[16..]),
        source[24],
        BinaryPrimitives.ReadUInt32LittleEndian(source[28..]));

    /// <summary>True when the record's checksum matches; <paramref name="record"/> spans header and payload.</summary>
    public static bool ChecksumMatches(ReadOnlySpan<byte> record, uint expected) =>
        Crc32C.Compute(record[4..]) == expected;

    public static void EncodeSegmentHeader(Span<byte> destination, long seq, ulong firstIndex)
    {
        BinaryPrimitives.WriteUInt64LittleEndian(destination, SegmentMagic);
        BinaryPrimitives.WriteUInt64LittleEndian(destination[8..], (ulong)seq);
        BinaryPrimitives.WriteUInt64LittleEndian(destination[16..], firstIndex);
        BinaryPrimitives.WriteUInt32LittleEndian(destination[24..], Crc32C.Compute(destination[..24]));
        BinaryPrimitives.WriteUInt32LittleEndian(destination[28..], 0);
    }

    public static bool TryDecodeSegmentHeader(ReadOnlySpan<byte> source, out long seq, out ulong firstIndex)
    {
        seq = 0;
        firstIndex = 0;
        if (source.Length < SegmentHeaderBytes
            || BinaryPrimitives.ReadUInt64LittleEndian(source) != SegmentMagic
            || BinaryPrimitives.ReadUInt32LittleEndian(source[24..]) != Crc32C.Compute(source[..24]))
        {
            return false;
        }
        seq = (long)BinaryPrimitives.ReadUInt64LittleEndian(source[8..]);
        firstIndex = BinaryPrimitives.ReadUInt64LittleEndian(source[16..]);
        return true;
    }

    public static string SegmentFileName(long seq, ulong firstIndex) => $"{seq:D16}-{firstIndex:D20}.seg";

    public static bool TryParseSegmentFileName(string fileName, out long seq, out ulong firstIndex)
    {
        seq = 0;
        firstIndex = 0;
        var parts = Path.GetFileNameWithoutExtension(fileName).Split('-');
        return fileName.EndsWith(".seg", StringComparison.Ordinal)
            && parts.Length == 2
            && long.TryParse(parts[0], out seq)
            && ulong.TryParse(parts[1], out firstIndex);
    }
}
