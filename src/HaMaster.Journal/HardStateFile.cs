using System.Buffers.Binary;
using Microsoft.Win32.SafeHandles;

namespace HaMaster.Journal;

/// <summary>
/// The Raft hard state (term, vote, commit) in a checksummed double-slot file: each
/// <see cref="Save"/> overwrites the older of two 4 KiB-aligned slots with a higher sequence number
/// and fdatasyncs before returning, so a torn or lost write leaves the other slot, the previous
/// state, intact; one fdatasync per save, no rename. The file itself is created atomically
/// (temp + rename + directory fsync). Slot layout:
/// <c>magic u32 | crc32c(bytes 8..48) u32 | seq u64 | term u64 | votedFor u64 | commit u64 | 0 u64</c>.
/// Thread-safe (saves are serialized).
/// </summary>
public sealed class HardStateFile : IDisposable
{
    private const uint Magic = 0x53484D48u; // "HMHS"
    private const int SlotBytes = 48;
    private const int SlotStride = 4096;
    private readonly Lock _lock = new();
    private readonly StorageIo _io;
    private readonly SafeFileHandle _handle;
    private ulong _seq;

    private HardStateFile(string path, StorageIo io, SafeFileHandle handle, HardStateRecord current, ulong seq)
    {
        Path = path;
        _io = io;
        _handle = handle;
        _current = current;
        _seq = seq;
    }

    public string Path { get; }

    /// <summary>The last state saved (zeros for a new file). Read under the lock: a 24-byte struct is not read atomically.</summary>
    public HardStateRecord Current
    {
        get
        {
            lock (_lock)
            {
                return _current;
            }
        }
    }

    private HardStateRecord _current;

    /// <summary>Opens or creates the file at <paramref name="path"/>; throws <see cref="JournalCorruptedException"/> if neither slot is valid.</summary>
    public static HardStateFile Open(string path) => Open(path, faults: null);

    /// <summary>As <see cref="Open(string)"/>, with every file operation going through <paramref name="faults"/> (tests and simulation).</summary>
    internal static HardStateFile Open(string path, IStorageFaults? faults)
    {
        var io = new StorageIo(faults);
        path = System.IO.Path.GetFullPath(path);
        var directory = System.IO.Path.GetDirectoryName(path)!;
        io.CreateDirectory(directory);
        if (!File.Exists(path))
        {
            var empty = new byte[2 * SlotStride];
            EncodeSlot(empty.AsSpan(SlotStride), 1, default); // slot of seq 1; the first Save (seq 2) goes to the other slot
            io.WriteFileAtomically(path, empty);
        }
        var handle = File.OpenHandle(path, FileMode.Open, FileAccess.ReadWrite, FileShare.Read);
        try
        {
            var bytes = new byte[2 * SlotStride];
            var read = RandomAccess.Read(handle, bytes, 0);
            var a = DecodeSlot(bytes.AsSpan(0, Math.Min(read, SlotBytes)));
            var b = read >= SlotStride + SlotBytes ? DecodeSlot(bytes.AsSpan(SlotStride, SlotBytes)) : null;
            var best = (a, b) switch
            {
                (null, null) => throw new JournalCorruptedException(
                    $"Raft hard state file '{path}' is damaged: neither slot (offsets 0 and {SlotStride}) has a valid checksum. The node's vote and term are unknown, so it must not rejoin with them. " +
                    "Operator options: restore the file from a backup, or remove this node from the cluster, wipe its data directory and add it back as a new member.",
                    path,
                    0),
                ({ } x, null) => x,
                (null, { } y) => y,
                ({ } x, { } y) => x.Seq >= y.Seq ? x : y,
            };
            return new HardStateFile(path, io, handle, best.State, best.Seq);
        }
        catch
        {
            handle.Dispose();
            throw;
        }
    }

    /// <summary>Persists <paramref name="state"/> atomically and durably before returning.</summary>
    public void Save(HardStateRecord state)
    {
        lock (_lock)
        {
            var seq = _seq + 1;
            Span<byte> slot = stackalloc byte[SlotBytes];
            EncodeSlot(slot, seq, state);
            var offset = (long)(seq % 2) * SlotStride;
            try
            {
                _io.Write(_handle, Path, slot, offset);
                _io.SyncData(_handle, Path);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                throw new JournalFailedException(
                    $"Saving the Raft hard state to '{Path}' failed: {e.Message}. The previous state ({_current}) is still intact on disk; " +
                    "do not acknowledge the vote or term change. Free disk space or fix permissions, then retry or restart the node.",
                    e);
            }
            _seq = seq;
            _current = state;
        }
    }

    public void Dispose() => _handle.Dispose();

    private static void EncodeSlot(Span<byte> slot, ulong seq, HardStateRecord state)
    {
        BinaryPrimitives.WriteUInt32LittleEndian(slot, Magic);
        BinaryPrimitives.WriteUInt64LittleEndian(slot[8..], seq);
        BinaryPrimitives.WriteUInt64LittleEndian(slot[16..], state.Term);
        BinaryPrimitives.WriteUInt64LittleEndian(slot[24..], state.VotedFor);
        BinaryPrimitives.WriteUInt64LittleEndian(slot[32..], state.Commit);
        BinaryPrimitives.WriteUInt64LittleEndian(slot[40..], 0);
        BinaryPrimitives.WriteUInt32LittleEndian(slot[4..], Crc32C.Compute(slot[8..SlotBytes]));
    }

    private static (ulong Seq, HardStateRecord State)? DecodeSlot(ReadOnlySpan<byte> slot)
    {
        if (slot.Length < SlotBytes
            || BinaryPrimitives.ReadUInt32LittleEndian(slot) != Magic
            || BinaryPrimitives.ReadUInt32LittleEndian(slot[4..]) != Crc32C.Compute(slot[8..SlotBytes]))
        {
            return null;
        }
        return (BinaryPrimitives.ReadUInt64LittleEndian(slot[8..]), new HardStateRecord(
            BinaryPrimitives.ReadUInt64LittleEndian(slot[16..]),
            BinaryPrimitives.ReadUInt64LittleEndian(slot[24..]),
            BinaryPrimitives.ReadUInt64LittleEndian(slot[32..])));
    }
}
