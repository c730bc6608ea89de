namespace HaMaster.Bench.LeanGrpc.Hpack;

/// <summary>
/// HPACK (RFC 7541) encoder for request header blocks. Deliberately stateless: it never uses the
/// dynamic table (so the server need not track the peer's SETTINGS_HEADER_TABLE_SIZE) and never
/// Huffman-codes. Fields are written as static-table indexed fields or literals without indexing.
/// Thread-safe (pure functions).
/// </summary>
internal static class HpackEncoder
{
    private const int StatusNameIndex = 8;

    /// <summary>
    /// Writes a literal header field without indexing (RFC 7541 6.2.2), never Huffman-coded, using the
    /// static table's name index when it has <paramref name="name"/>, else a literal name. Name and value
    /// are Latin-1; lowercasing names is the caller's job. Returns the bytes written, or -1 when
    /// <paramref name="destination"/> is too small.
    /// </summary>
    /// <exception cref="ArgumentException">A character of the name or value is above U+00FF.</exception>
    public static int WriteHeader(string name, string value, Span<byte> destination)
    {
        ArgumentNullException.ThrowIfNull(name);
        ArgumentNullException.ThrowIfNull(value);
        EnsureLatin1(name, nameof(name));
        EnsureLatin1(value, nameof(value));

        var nameIndex = HpackStaticTable.IndexOfName(name);
        var pos = WriteInteger(nameIndex, 4, 0x00, destination);
        if (pos < 0)
        {
            return -1;
        }

        if (nameIndex == 0)
        {
            var nameLength = WriteRawString(name, destination[pos..]);
            if (nameLength < 0)
            {
                return -1;
            }

            pos += nameLength;
        }

        var valueLength = WriteRawString(value, destination[pos..]);
        return valueLength < 0 ? -1 : pos + valueLength;
    }

    private static int WriteRawString(string text, Span<byte> destination)
    {
        // H bit clear: raw octets.
        var pos = WriteInteger(text.Length, 7, 0x00, destination);
        if (pos < 0 || destination.Length - pos < text.Length)
        {
            return -1;
        }

        for (var i = 0; i < text.Length; i++)
        {
            destination[pos + i] = (byte)text[i];
        }

        return pos + text.Length;
    }

    /// <summary>RFC 7541 5.1 integer with an N-bit prefix; <paramref name="flags"/> fills the bits above it.</summary>
    private static int WriteInteger(int value, int prefixBits, byte flags, Span<byte> destination)
    {
        if (destination.IsEmpty)
        {
            return -1;
        }

        var prefixMask = (1 << prefixBits) - 1;
        if (value < prefixMask)
        {
            destination[0] = (byte)(flags | value);
            return 1;
        }

        destination[0] = (byte)(flags | prefixMask);
        var rest = (uint)(value - prefixMask);
        var pos = 1;
        while (true)
        {
            if (pos == destination.Length)
            {
                return -1;
            }

            if (rest < 0x80)
            {
                destination[pos++] = (byte)rest;
                return pos;
            }

            destination[pos++] = (byte)(0x80 | (rest & 0x7F));
            rest >>= 7;
        }
    }

    private static int IntegerLength(int value, int prefixBits)
    {
        var prefixMask = (1 << prefixBits) - 1;
        if (value < prefixMask)
        {
            return 1;
        }

        var length = 2;
        for (var rest = (uint)(value - prefixMask); rest >= 0x80; rest >>= 7)
        {
            length++;
        }

        return length;
    }

    private static void EnsureLatin1(string text, string parameterName)
    {
        foreach (var c in text)
        {
            if (c > '\u00FF')
            {
                throw new ArgumentException("HPACK header names and values must be Latin-1.", parameterName);
            }
        }
    }
}
