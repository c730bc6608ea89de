using System.Buffers.Binary;

namespace HaMaster.Journal;

/// <summary>
/// <c>log.meta</c>: the snapshot boundary (index and term of the last compacted entry) and the
/// lowest live segment sequence number. Replaced atomically (write temp, fsync, rename, fsync dir)
/// before segments are deleted, so an interrupted compaction or reset is finished by recovery.
/// Layout: <c>magic u32 | crc32c(bytes 8..32) u32 | snapshotIndex u64 | snapshotTerm u64 | minLiveSeq u64</c>.
/// </summary>
internal static class LogBoundaryFile
{
    public const string FileName = "log.meta";
    private const uint Magic = 0x4D4A4D48u; // "HMJM"

    public readonly record struct Boundary(ulong SnapshotIndex, ulong SnapshotTerm, long MinLiveSeq);

    public static Boundary Read(string directory)
    {
        var path = Path.Combine(directory, FileName);
        if (!File.Exists(path))
        {
            return default;
        }
        var bytes = File.ReadAllBytes(path);
        if (bytes.Length != 32
            || BinaryPrimitives.ReadUInt32LittleEndian(bytes) != Magic
            || BinaryPrimitives.ReadUInt32LittleEndian(bytes.AsSpan(4)) != Crc32C.Compute(bytes.AsSpan(8)))
        {
            throw new JournalCorruptedException(
                $"Raft log metadata '{path}' is damaged (bad length, magic or checksum). It records the snapshot boundary, so the log cannot be interpreted without it. " +
                $"Operator options: if other masters are healthy, stop this node, move '{directory}' aside and restart it empty so it re-replicates from the leader; otherwise restore the directory from a backup.",
                path,
                0);
        }
        return new Boundary(
            BinaryPrimitives.ReadUInt64LittleEndian(bytes.AsSpan(8)),
            BinaryPrimitives.ReadUInt64LittleEndian(bytes.AsSpan(16)),
            (long)BinaryPrimitives.ReadUInt64LittleEndian(bytes.AsSpan(24)));
    }

    public static void Write(StorageIo io, string directory, Boundary boundary)
    {
        Span<byte> bytes = stackalloc byte[32];
        BinaryPrimitives.WriteUInt32LittleEndian(bytes, Magic);
        BinaryPrimitives.WriteUInt64LittleEndian(bytes[8..], boundary.SnapshotIndex);
        BinaryPrimitives.WriteUInt64LittleEndian(bytes[16..], boundary.SnapshotTerm);
        BinaryPrimitives.WriteUInt64LittleEndian(bytes[24..], (ulong)boundary.MinLiveSeq);
        BinaryPrimitives.WriteUInt32LittleEndian(bytes[4..], Crc32C.Compute(bytes[8..]));
        io.WriteFileAtomically(Path.Combine(directory, FileName), bytes);
    }
}
