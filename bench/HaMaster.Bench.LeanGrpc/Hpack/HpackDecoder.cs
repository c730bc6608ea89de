namespace HaMaster.Bench.LeanGrpc.Hpack;

/// <summary>
/// HPACK (RFC 7541) header block decoder for one HTTP/2 connection. It owns that connection's decoding
/// dynamic table, so blocks must be decoded one at a time, in the order their HEADERS frames arrived;
/// not thread-safe (the connection's read loop is its only user). After an <see cref="HpackException"/>
/// the table state is undefined and the connection must end with COMPRESSION_ERROR.
/// </summary>
/// <remarks>
/// Allocation: fields from the static table and raw (non-Huffman) literals are handed to the sink as
/// spans of the input; Huffman strings decode into two reusable scratch buffers (name and value) that
/// only grow; only an entry inserted into the dynamic table allocates (one byte[] holding name+value).
/// </remarks>
internal sealed partial class HpackDecoder
{
    // Largest integer we accept: anything bigger than int.MaxValue is no sane index, length or size.
    private const int MaxIntegerShift = 28;

    private readonly int _maxDynamicTableSize;
    private readonly int _maxStringLength;
    private readonly DynamicTable _table;
    private byte[] _nameScratch = [];
    private byte[] _valueScratch = [];

    /// <param name="maxDynamicTableSize">
    /// Our SETTINGS_HEADER_TABLE_SIZE in octets: the initial dynamic table size and the most a table size
    /// update may set. Default 4096 (the HTTP/2 default).
    /// </param>
    /// <param name="maxStringLength">
    /// Longest name or value accepted, in octets after Huffman decoding; longer strings are a
    /// <see cref="HpackException"/>. Default 64 KiB.
    /// </param>
    public HpackDecoder(int maxDynamicTableSize = 4096, int maxStringLength = 64 * 1024)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(maxDynamicTableSize);
        ArgumentOutOfRangeException.ThrowIfNegative(maxStringLength);
        _maxDynamicTableSize = maxDynamicTableSize;
        _maxStringLength = maxStringLength;
        _table = new DynamicTable(maxDynamicTableSize);
    }

    /// <summary>Current dynamic table size in RFC 7541 terms: the sum of name + value + 32 over its entries.</summary>
    public int DynamicTableSize => _table.Size;

    /// <summary>Number of entries in the dynamic table.</summary>
    public int DynamicTableCount => _table.Count;

    /// <summary>
    /// Decodes one complete header block (HEADERS payload plus all CONTINUATION payloads, concatenated,
    /// with padding and priority fields removed), calling <paramref name="sink"/> once per field in order.
    /// </summary>
    /// <exception cref="HpackException">The block is malformed.</exception>
    public void Decode(ReadOnlySpan<byte> block, IHpackHeaderSink sink)
    {
        ArgumentNullException.ThrowIfNull(sink);
        var pos = 0;
        var sizeUpdateAllowed = true;
        while (pos < block.Length)
        {
            var first = block[pos];
            if ((first & 0x80) != 0)
            {
                // 6.1 Indexed header field.
                var index = ReadInteger(block, ref pos, 7);
                EmitIndexed(index, sink);
            }
            else if ((first & 0xC0) == 0x40)
            {
                // 6.2.1 Literal with incremental indexing.
                DecodeLiteral(block, ref pos, 6, sink, addToTable: true);
            }
            else if ((first & 0xE0) == 0x20)
            {
                // 6.3 Dynamic table size update: only before the first field of a block (4.2).
                if (!sizeUpdateAllowed)
                {
                    throw new HpackException("Dynamic table size update after a header field.");
                }

                var size = ReadInteger(block, ref pos, 5);
                if (size > _maxDynamicTableSize)
                {
                    throw new HpackException($"Dynamic table size update to {size} exceeds the limit {_maxDynamicTableSize}.");
                }

                _table.SetMaxSize(size);
                continue;
            }
            else
            {
                // 6.2.2 without indexing (0000xxxx) and 6.2.3 never indexed (0001xxxx): same shape here.
                DecodeLiteral(block, ref pos, 4, sink, addToTable: false);
            }

            sizeUpdateAllowed = false;
        }
    }

    private void EmitIndexed(int index, IHpackHeaderSink sink)
    {
        if (index == 0)
        {
            throw new HpackException("Indexed header field with index 0.");
        }

        if (index <= HpackStaticTable.Count)
        {
            sink.OnHeader(HpackStaticTable.Name(index), HpackStaticTable.Value(index));
            return;
        }

        var entry = DynamicEntry(index);
        sink.OnHeader(entry.Name, entry.Value);
    }

    private void DecodeLiteral(ReadOnlySpan<byte> block, ref int pos, int prefixBits, IHpackHeaderSink sink, bool addToTable)
    {
        var nameIndex = ReadInteger(block, ref pos, prefixBits);
        ReadOnlySpan<byte> name;
        if (nameIndex == 0)
        {
            name = ReadString(block, ref pos, ref _nameScratch);
        }
        else if (nameIndex <= HpackStaticTable.Count)
        {
            name = HpackStaticTable.Name(nameIndex);
        }
        else
        {
            name = DynamicEntry(nameIndex).Name;
        }

        var value = ReadString(block, ref pos, ref _valueScratch);
        sink.OnHeader(name, value);
        if (addToTable)
        {
            // Add copies name and value before it evicts, so a name that lives in an entry about to be
            // evicted (RFC 7541 4.4) is still intact when copied.
            _table.Add(name, value);
        }
    }

    private DynamicTable.Entry DynamicEntry(int index)
    {
        var dynamicIndex = index - HpackStaticTable.Count - 1;
        if (dynamicIndex >= _table.Count)
        {
            throw new HpackException($"Header table index {index} is beyond the static and dynamic tables.");
        }

        return _table[dynamicIndex];
    }

    /// <summary>RFC 7541 5.1 integer with an N-bit prefix, starting at block[pos] (whose high bits are flags).</summary>
    private static int ReadInteger(ReadOnlySpan<byte> block, ref int pos, int prefixBits)
    {
        var prefixMask = (1 << prefixBits) - 1;
        var value = block[pos++] & prefixMask;
        if (value < prefixMask)
        {
            return value;
        }

        long result = value;
        var shift = 0;
        while (true)
        {
            if (pos >= block.Length)
            {
                throw new HpackException("Header block ends inside an integer.");
            }

            if (shift > MaxIntegerShift)
            {
                throw new HpackException("Integer in header block is too large.");
            }

            var b = block[pos++];
            result += (long)(b & 0x7F) << shift;
            if (result > int.MaxValue)
            {
                throw new HpackException("Integer in header block is too large.");
            }

            if ((b & 0x80) == 0)
            {
                return (int)result;
            }

            shift += 7;
        }
    }

    /// <summary>RFC 7541 5.2 string literal: a span of the block, or of <paramref name="scratch"/> when Huffman-coded.</summary>
    private ReadOnlySpan<byte> ReadString(ReadOnlySpan<byte> block, scoped ref int pos, scoped ref byte[] scratch)
    {
        if (pos >= block.Length)
        {
            throw new HpackException("Header block ends before a string literal.");
        }

        var huffman = (block[pos] & 0x80) != 0;
        var length = ReadInteger(block, ref pos, 7);
        if (length > block.Length - pos)
        {
            throw new HpackException("Header block ends inside a string literal.");
        }

        var raw = block.Slice(pos, length);
        pos += length;
        if (!huffman)
        {
            if (length > _maxStringLength)
            {
                throw new HpackException($"Header string of {length} octets exceeds the limit {_maxStringLength}.");
            }

            return raw;
        }

        // Enough room for any decoding of this input, capped at the limit: running out of room then
        // means the decoded string is over the limit.
        var capacity = Math.Min(HpackHuffman.MaxDecodedLength(length), _maxStringLength);
        if (scratch.Length < capacity)
        {
            scratch = new byte[Math.Max(capacity, Math.Min(_maxStringLength, scratch.Length * 2))];
        }

        var decoded = HpackHuffman.Decode(raw, scratch.AsSpan(0, capacity));
        if (decoded < 0)
        {
            throw new HpackException($"Huffman-decoded header string exceeds the limit {_maxStringLength}.");
        }

        return scratch.AsSpan(0, decoded);
    }
}
