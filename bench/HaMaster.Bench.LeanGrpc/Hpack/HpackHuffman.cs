namespace HaMaster.Bench.LeanGrpc.Hpack;

/// <summary>
/// Decoder for the static Huffman code of RFC 7541 Appendix B. The code is canonical (codes of equal
/// length are consecutive in symbol order, shorter codes first), so the table below holds only each
/// symbol's code length and the codes are rebuilt from it at type init. Decoding walks a 4-bit state
/// machine: a state is an internal node of the code tree, and because the shortest code has 5 bits a
/// nibble completes at most one symbol. Immutable after type init, so safe for concurrent use.
/// </summary>
internal static class HpackHuffman
{
    private const int Eos = 256;
    private const int EmitFlag = 1 << 16;
    private const int FailFlag = 1 << 17;

    /// <summary>Code length in bits of symbols 0..255 and EOS (256), RFC 7541 Appendix B.</summary>
    private static ReadOnlySpan<byte> CodeLengths =>
    [
        13, 23, 28, 28, 28, 28, 28, 28, 28, 24, 30, 28, 28, 30, 28, 28,
        28, 28, 28, 28, 28, 28, 30, 28, 28, 28, 28, 28, 28, 28, 28, 28,
        6, 10, 10, 12, 13, 6, 8, 11, 10, 10, 8, 11, 8, 6, 6, 6,
        5, 5, 5, 6, 6, 6, 6, 6, 6, 6, 7, 8, 15, 6, 12, 10,
        13, 6, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7,
        7, 7, 7, 7, 7, 7, 7, 7, 8, 7, 8, 13, 19, 13, 14, 6,
        15, 5, 6, 5, 6, 5, 6, 6, 6, 5, 7, 7, 6, 6, 6, 5,
        6, 7, 6, 5, 5, 6, 7, 7, 7, 7, 7, 15, 11, 14, 13, 28,
        20, 22, 20, 20, 22, 22, 22, 23, 22, 23, 23, 23, 23, 23, 24, 23,
        24, 24, 22, 23, 24, 23, 23, 23, 23, 21, 22, 23, 22, 23, 23, 24,
        22, 21, 20, 22, 22, 23, 23, 21, 23, 22, 22, 24, 21, 22, 23, 23,
        21, 21, 22, 21, 23, 22, 23, 23, 20, 22, 22, 22, 23, 22, 22, 23,
        26, 26, 20, 19, 22, 23, 22, 25, 26, 26, 26, 27, 27, 26, 24, 25,
        19, 21, 26, 27, 27, 26, 27, 24, 21, 21, 26, 26, 28, 27, 27, 27,
        20, 24, 20, 21, 22, 21, 21, 23, 22, 22, 25, 25, 24, 24, 26, 23,
        26, 27, 26, 26, 27, 27, 27, 27, 27, 28, 27, 27, 27, 27, 27, 26,
        30,
    ];

    // Transitions[state * 16 + nibble] = next state (bits 0..7) | emitted symbol (bits 8..15) | flags.
    private static readonly int[] Transitions;

    // Whether ending the string in this state is valid padding: fewer than 8 bits, all ones (EOS prefix).
    private static readonly bool[] Accepting;

    static HpackHuffman()
    {
        var codes = CanonicalCodes();

        // Build the code tree: 257 leaves need exactly 256 internal nodes (the code is complete).
        // A child value >= 0 is an internal node; a negative value is ~symbol of a leaf.
        const int internalNodes = 256;
        var children = new int[internalNodes * 2];
        var depth = new int[internalNodes];
        var allOnes = new bool[internalNodes];
        allOnes[0] = true;
        var nodeCount = 1;
        for (var symbol = 0; symbol <= Eos; symbol++)
        {
            int length = CodeLengths[symbol];
            var node = 0;
            for (var bit = length - 1; bit > 0; bit--)
            {
                var b = (int)(codes[symbol] >> bit) & 1;
                if (children[(node * 2) + b] == 0)
                {
                    var next = nodeCount++;
                    children[(node * 2) + b] = next;
                    depth[next] = depth[node] + 1;
                    allOnes[next] = allOnes[node] && b == 1;
                }

                node = children[(node * 2) + b];
            }

            children[(node * 2) + (int)(codes[symbol] & 1)] = ~symbol;
        }

        if (nodeCount != internalNodes)
        {
            throw new InvalidOperationException("HPACK Huffman table is not a complete prefix code.");
        }

        Transitions = new int[internalNodes * 16];
        Accepting = new bool[internalNodes];
        for (var state = 0; state < internalNodes; state++)
        {
            Accepting[state] = state == 0 || (allOnes[state] && depth[state] <= 7);
            for (var nibble = 0; nibble < 16; nibble++)
            {
                var node = state;
                var entry = 0;
                for (var bit = 3; bit >= 0; bit--)
                {
                    var child = children[(node * 2) + ((nibble >> bit) & 1)];
                    if (child >= 0)
                    {
                        node = child;
                        continue;
                    }

                    var symbol = ~child;
                    if (symbol == Eos)
                    {
                        entry = FailFlag;
                        break;
                    }

                    entry = EmitFlag | (symbol << 8);
                    node = 0;
                }

                Transitions[(state * 16) + nibble] = entry | (entry == FailFlag ? 0 : node);
            }
        }
    }

    /// <summary>
    /// Decodes a Huffman-coded string literal into <paramref name="destination"/>. Returns the decoded
    /// length, or -1 when <paramref name="destination"/> is too small (at most <c>source.Length * 8 / 5</c>
    /// bytes are ever needed). Throws <see cref="HpackException"/> for EOS in the data or invalid padding.
    /// </summary>
    public static int Decode(ReadOnlySpan<byte> source, Span<byte> destination)
    {
        var transitions = Transitions;
        var state = 0;
        var written = 0;
        foreach (var b in source)
        {
            for (var shift = 4; shift >= 0; shift -= 4)
            {
                var entry = transitions[(state * 16) + ((b >> shift) & 0xF)];
                if ((entry & (EmitFlag | FailFlag)) != 0)
                {
                    if ((entry & FailFlag) != 0)
                    {
                        throw new HpackException("Huffman-coded string contains the EOS symbol.");
                    }

                    if (written == destination.Length)
                    {
                        return -1;
                    }

                    destination[written++] = (byte)(entry >> 8);
                }

                state = entry & 0xFF;
            }
        }

        if (!Accepting[state])
        {
            throw new HpackException("Huffman-coded string has invalid padding.");
        }

        return written;
    }

    /// <summary>Upper bound of the decoded length of <paramref name="encodedLength"/> Huffman-coded bytes.</summary>
    public static int MaxDecodedLength(int encodedLength) => (int)Math.Min(int.MaxValue, (long)encodedLength * 8 / 5);

    // Canonical code assignment (RFC 1951 style): sort by (length, symbol), count upwards, shift left when
    // the length grows. Yields exactly the codes printed in RFC 7541 Appendix B.
    private static uint[] CanonicalCodes()
    {
        var countPerLength = new int[31];
        for (var symbol = 0; symbol <= Eos; symbol++)
        {
            countPerLength[CodeLengths[symbol]]++;
        }

        var nextCode = new uint[31];
        uint code = 0;
        for (var length = 1; length <= 30; length++)
        {
            code = (code + (uint)countPerLength[length - 1]) << 1;
            nextCode[length] = code;
        }

        var codes = new uint[Eos + 1];
        for (var symbol = 0; symbol <= Eos; symbol++)
        {
            codes[symbol] = nextCode[CodeLengths[symbol]]++;
        }

        return codes;
    }
}
