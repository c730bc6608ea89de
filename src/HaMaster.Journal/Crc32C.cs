using System.Buffers.Binary;
using System.Runtime.Intrinsics.X86;

namespace HaMaster.Journal;

/// <summary>
/// CRC-32C (Castagnoli), the checksum of every journal record, snapshot file and chunk.
/// Uses the SSE4.2 <c>crc32</c> instruction (8 bytes per step) when present, a lookup table otherwise.
/// System.IO.Hashing is not part of the shared framework, hence our own.
/// </summary>
public static class Crc32C
{
    private const uint ReflectedPolynomial = 0x82F63B78u;
    private static readonly uint[] Table = BuildTable();

    /// <summary>The CRC-32C of <paramref name="data"/>.</summary>
    public static uint Compute(ReadOnlySpan<byte> data) => ~Update(~0u, data);

    /// <summary>
    /// Continues a running CRC state (start with <c>~0u</c>, finish with <c>~state</c>); lets
    /// callers checksum a header and a payload that are not contiguous in memory.
    /// </summary>
    public static uint Update(uint state, ReadOnlySpan<byte> data)
    {
        if (Sse42.X64.IsSupported)
        {
            ulong crc = state;
            while (data.Length >= 8)
            {
                crc = Sse42.X64.Crc32(crc, BinaryPrimitives.ReadUInt64LittleEndian(data));
                data = data[8..];
            }
            state = (uint)crc;
            foreach (var b in data)
            {
                state = Sse42.Crc32(state, b);
            }
            return state;
        }
        foreach (var b in data)
        {
            state = Table[(byte)(state ^ b)] ^ (state >> 8);
        }
        return state;
    }

    private static uint[] BuildTable()
    {
        var table = new uint[256];
        for (uint i = 0; i < 256; i++)
        {
            var c = i;
            for (var k = 0; k < 8; k++)
            {
                c = (c & 1) != 0 ? (c >> 1) ^ ReflectedPolynomial : c >> 1;
            }
            table[i] = c;
        }
        return table;
    }
}
