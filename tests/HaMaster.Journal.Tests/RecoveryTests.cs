using HaMaster.Chaos.Core.Files;
namespace HaMaster.Journal.Tests;

/// <summary>Torn tails are repaired and reported; damage in the middle of the log is refused with file and offset.</summary>
public class RecoveryTests
{
    private const int Payload = 100;
    private const int RecordBytes = 136; // 32-byte header + 100 payload, 8-aligned
    private const int SegmentHeader = 32;

    private static long OffsetOf(ulong index) => SegmentHeader + ((long)index - 1) * RecordBytes;

    private static async Task<string> WriteTen(string dir, bool preallocate = true)
    {
        using var log = RaftLog.Open(Records.Options(dir, preallocate: preallocate));
        await log.AppendAndFlushAsync(Records.Range(1, 10, 1, Payload));
        return Directory.GetFiles(dir, "*.seg").Single();
    }

    private static void Patch(string path, long offset, Func<byte, byte> change, int count = 1)
    {
        using var stream = new FileStream(path, FileMode.Open, FileAccess.ReadWrite);
        for (var i = 0; i < count; i++)
        {
            stream.Position = offset + i;
            var b = (byte)stream.ReadByte();
            stream.Position = offset + i;
            stream.WriteByte(change(b));
        }
    }

    [Fact]
    public async Task Incomplete_final_record_at_end_of_file_is_truncated_and_reported()
    {
        using var dir = new TempDirectory();
        var segment = await WriteTen(dir.Path, preallocate: false);
        using (var stream = new FileStream(segment, FileMode.Open))
        {
            stream.SetLength(OffsetOf(11) - 50);
        }
        using (var log = RaftLog.Open(Records.Options(dir.Path, preallocate: false)))
        {
            Assert.True(log.Recovery.TornTailTruncated);
            Assert.Equal(segment, log.Recovery.TruncatedFile);
            Assert.Equal(OffsetOf(10), log.Recovery.TruncatedAtOffset);
            Assert.Contains("torn tail", log.Recovery.Detail);
            Assert.Equal(9UL, log.LastIndex);
            await log.AppendAndFlushAsync([Records.Make(10, 2, Payload)]);
        }
        using (var log = RaftLog.Open(Records.Options(dir.Path, preallocate: false)))
        {
            Assert.False(log.Recovery.TornTailTruncated);
            Assert.Equal(2UL, log.Term(10));
        }
    }

    [Fact]
    public async Task Partially_written_final_record_in_preallocated_space_is_truncated()
    {
        using var dir = new TempDirectory();
        var segment = await WriteTen(dir.Path);
        Patch(segment, OffsetOf(11) - 60, _ => 0, 60); // the last 60 bytes of record 10 never reached the disk
        using var log = RaftLog.Open(Records.Options(dir.Path));
        Assert.True(log.Recovery.TornTailTruncated);
        Assert.Equal(9UL, log.LastIndex);
        Assert.True(log.Recovery.DiscardedBytes > 0);
    }

    [Fact]
    public async Task Flipped_byte_in_the_final_record_is_treated_as_a_torn_tail()
    {
        using var dir = new TempDirectory();
        var segment = await WriteTen(dir.Path);
        Patch(segment, OffsetOf(10) + 40, b => (byte)~b);
        using (var log = RaftLog.Open(Records.Options(dir.Path)))
        {
            Assert.True(log.Recovery.TornTailTruncated);
            Assert.Contains("checksum mismatch in record 10", log.Recovery.Detail);
            Assert.Equal(9UL, log.LastIndex);
        }
        using (var log = RaftLog.Open(Records.Options(dir.Path)))
        {
            Assert.False(log.Recovery.TornTailTruncated, "the repair must be durable and complete");
            Assert.Equal(9UL, log.LastIndex);
        }
    }

    [Fact]
    public async Task Flipped_byte_in_the_middle_is_refused_with_file_offset_and_advice()
    {
        using var dir = new TempDirectory();
        var segment = await WriteTen(dir.Path);
        Patch(segment, OffsetOf(5) + 70, b => (byte)(b ^ 0x10));
        var e = Assert.Throws<JournalCorruptedException>(() => RaftLog.Open(Records.Options(dir.Path)));
        Assert.Equal(segment, e.File);
        Assert.Equal(OffsetOf(5), e.Offset);
        Assert.Contains(segment, e.Message);
        Assert.Contains($"offset {OffsetOf(5)}", e.Message);
        Assert.Contains("checksum mismatch in record 5", e.Message);
        Assert.Contains("TruncateAfterCorruption", e.Message);
        // Still refused on a second attempt: nothing was silently changed.
        Assert.Throws<JournalCorruptedException>(() => RaftLog.Open(Records.Options(dir.Path)));

        // The operator's escape hatch truncates at the damage.
        using var log = RaftLog.Open(Records.Options(dir.Path) with { TruncateAfterCorruption = true });
        Assert.Equal(4UL, log.LastIndex);
        Assert.True(log.Recovery.TornTailTruncated);
    }

    [Fact]
    public async Task Damage_in_an_earlier_segment_is_refused_even_at_its_end()
    {
        using var dir = new TempDirectory();
        using (var log = RaftLog.Open(Records.Options(dir.Path)))
        {
            await log.AppendAndFlushAsync(Records.Range(1, 1500, 1, Payload));
        }
        var first = Directory.GetFiles(dir.Path, "*.seg").Order().First();
        var perSegment = (64 << 10) - SegmentHeader;
        var lastInFirst = perSegment / RecordBytes; // records that fit in the first segment
        Patch(first, OffsetOf((ulong)lastInFirst) + 33, b => (byte)~b);
        var e = Assert.Throws<JournalCorruptedException>(() => RaftLog.Open(Records.Options(dir.Path)));
        Assert.Equal(first, e.File);
        Assert.Equal(OffsetOf((ulong)lastInFirst), e.Offset);
    }

    [Fact]
    public async Task Unsynced_garbage_after_the_end_is_discarded_and_zeroed()
    {
        using var dir = new TempDirectory();
        var segment = await WriteTen(dir.Path);
        Patch(segment, OffsetOf(11) + 4000, _ => 0xAB, 300);
        using (var log = RaftLog.Open(Records.Options(dir.Path)))
        {
            Assert.True(log.Recovery.TornTailTruncated);
            Assert.Equal(10UL, log.LastIndex);
            Assert.Equal(4300, log.Recovery.DiscardedBytes);
            await log.AppendAndFlushAsync(Records.Range(11, 50, 1, Payload));
        }
        using (var log = RaftLog.Open(Records.Options(dir.Path)))
        {
            Assert.False(log.Recovery.TornTailTruncated);
            Assert.Equal(60UL, log.LastIndex);
        }
    }

    [Fact]
    public async Task A_hole_before_the_tail_ends_the_log_there()
    {
        // Pages of the last unsynced batch can reach the disk out of order: a zeroed record 8 with
        // intact 9 and 10 after it means 8..10 were never acknowledged.
        using var dir = new TempDirectory();
        var segment = await WriteTen(dir.Path);
        Patch(segment, OffsetOf(8), _ => 0, RecordBytes);
        using var log = RaftLog.Open(Records.Options(dir.Path));
        Assert.Equal(7UL, log.LastIndex);
        Assert.True(log.Recovery.TornTailTruncated);
    }

    [Fact]
    public async Task Damaged_segment_header_and_missing_segments_are_refused()
    {
        using var dir = new TempDirectory();
        using (var log = RaftLog.Open(Records.Options(dir.Path)))
        {
            await log.AppendAndFlushAsync(Records.Range(1, 2000, 1, Payload));
        }
        var segments = Directory.GetFiles(dir.Path, "*.seg").Order().ToList();
        Assert.True(segments.Count >= 3);
        var moved = segments[1] + ".away";
        File.Move(segments[1], moved);
        var missing = Assert.Throws<JournalCorruptedException>(() => RaftLog.Open(Records.Options(dir.Path)));
        Assert.Contains("entries missing", missing.Message);
        File.Move(moved, segments[1]);

        Patch(segments[0], 3, b => (byte)~b);
        var header = Assert.Throws<JournalCorruptedException>(() => RaftLog.Open(Records.Options(dir.Path)));
        Assert.Equal(segments[0], header.File);
        Assert.Equal(0, header.Offset);
    }

    [Fact]
    public async Task Damage_after_open_is_detected_on_read()
    {
        using var dir = new TempDirectory();
        await WriteTen(dir.Path);
        using var log = RaftLog.Open(Records.Options(dir.Path));
        var segment = Directory.GetFiles(dir.Path, "*.seg").Single();
        Patch(segment, OffsetOf(3) + 50, b => (byte)~b);
        var e = Assert.Throws<JournalCorruptedException>(() => log.Read(1, 11, long.MaxValue));
        Assert.Equal(OffsetOf(3), e.Offset);
    }
}

/// <summary>Recovery finishes operations a crash interrupted.</summary>
public class InterruptedOperationTests
{
    [Fact]
    public async Task A_compaction_interrupted_before_deleting_segments_is_finished_on_open()
    {
        using var dir = new TempDirectory();
        using (var log = RaftLog.Open(Records.Options(dir.Path)))
        {
            await log.AppendAndFlushAsync(Records.Range(1, 2000, 1));
        }
        var saved = Directory.GetFiles(dir.Path, "*.seg").ToDictionary(f => f, File.ReadAllBytes);
        using (var log = RaftLog.Open(Records.Options(dir.Path)))
        {
            log.CompactPrefix(1500, 1);
        }
        // The crash came after log.meta was replaced but before the old segments were unlinked.
        var restored = saved.Keys.Where(k => !File.Exists(k)).ToList();
        Assert.NotEmpty(restored);
        foreach (var path in restored)
        {
            File.WriteAllBytes(path, saved[path]);
        }
        using (var log = RaftLog.Open(Records.Options(dir.Path)))
        {
            Assert.Equal(1500UL, log.SnapshotIndex);
            Assert.Equal(2000UL, log.LastIndex);
            Assert.Equal(500, log.Read(1501, 2001, long.MaxValue).Count);
        }
        Assert.All(restored, path => Assert.False(File.Exists(path), $"{path} should have been deleted by recovery"));
    }

    [Fact]
    public async Task A_reset_interrupted_before_deleting_the_old_log_does_not_resurrect_it()
    {
        using var dir = new TempDirectory();
        using (var log = RaftLog.Open(Records.Options(dir.Path)))
        {
            await log.AppendAndFlushAsync(Records.Range(1, 300, 1));
        }
        var saved = Directory.GetFiles(dir.Path, "*.seg").ToDictionary(f => f, File.ReadAllBytes);
        using (var log = RaftLog.Open(Records.Options(dir.Path)))
        {
            log.ResetToSnapshot(100, 1);
            await log.AppendAndFlushAsync([Records.Make(101, 2)]);
        }
        foreach (var (path, bytes) in saved)
        {
            File.WriteAllBytes(path, bytes);
        }
        using var reopened = RaftLog.Open(Records.Options(dir.Path));
        Assert.Equal(101UL, reopened.LastIndex);
        Assert.Equal(2UL, reopened.Term(101));
        Assert.Equal(1UL, reopened.Term(100));
    }

    [Fact]
    public async Task A_segment_created_just_before_a_crash_without_its_header_is_removed()
    {
        using var dir = new TempDirectory();
        using (var log = RaftLog.Open(Records.Options(dir.Path)))
        {
            await log.AppendAndFlushAsync(Records.Range(1, 10, 1));
        }
        var orphan = Path.Combine(dir.Path, "0000000000000002-00000000000000000011.seg");
        File.WriteAllBytes(orphan, new byte[64 << 10]);
        using var reopened = RaftLog.Open(Records.Options(dir.Path));
        Assert.Equal(10UL, reopened.LastIndex);
        Assert.Contains("header was never written", reopened.Recovery.Detail);
        Assert.False(File.Exists(orphan));
        await reopened.AppendAndFlushAsync([Records.Make(11, 1)]);
    }
}
