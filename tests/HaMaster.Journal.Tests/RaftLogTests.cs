using HaMaster.Chaos.Core.Files;
namespace HaMaster.Journal.Tests;

public class RaftLogTests
{
    [Fact]
    public async Task Round_trip_survives_reopen()
    {
        using var dir = new TempDirectory();
        var records = Records.Range(1, 500, 3);
        using (var log = RaftLog.Open(Records.Options(dir.Path)))
        {
            Assert.Equal(0UL, log.LastIndex);
            Assert.Equal(1UL, log.FirstIndex);
            await log.AppendAndFlushAsync(records);
            Assert.Equal(500UL, log.LastIndex);
            var read = log.Read(1, 501, long.MaxValue);
            Assert.Equal(500, read.Count);
            for (var i = 0; i < 500; i++)
            {
                Records.AssertSame(records[i], read[i]);
            }
        }
        using (var log = RaftLog.Open(Records.Options(dir.Path)))
        {
            Assert.False(log.Recovery.TornTailTruncated);
            Assert.True(log.Recovery.SegmentsScanned > 1, "64 KiB segments must have rolled");
            Assert.Equal(500UL, log.LastIndex);
            Assert.Equal(3UL, log.Term(500));
            var read = log.Read(1, 501, long.MaxValue);
            for (var i = 0; i < 500; i++)
            {
                Records.AssertSame(records[i], read[i]);
            }
            await log.AppendAndFlushAsync([Records.Make(501, 4)]);
            Assert.Equal(4UL, log.LastTerm);
        }
    }

    [Fact]
    public async Task Zero_length_and_very_large_entries_round_trip()
    {
        using var dir = new TempDirectory();
        var records = new List<LogRecord>
        {
            Records.Make(1, 1, 0),
            Records.Make(2, 1, 3 << 20), // larger than a 64 KiB segment: gets a segment of its own
            Records.Make(3, 1, 0),
            Records.Make(4, 1, 200),
        };
        using (var log = RaftLog.Open(Records.Options(dir.Path)))
        {
            await log.AppendAndFlushAsync(records);
        }
        using (var log = RaftLog.Open(Records.Options(dir.Path)))
        {
            Assert.Equal(4UL, log.LastIndex);
            var read = log.Read(1, 5, long.MaxValue);
            for (var i = 0; i < 4; i++)
            {
                Records.AssertSame(records[i], read[i]);
            }
            Assert.Equal(0, read[0].Payload.Length);
        }
    }

    [Fact]
    public async Task Read_respects_max_bytes_but_returns_at_least_one()
    {
        using var dir = new TempDirectory();
        using var log = RaftLog.Open(Records.Options(dir.Path));
        await log.AppendAndFlushAsync(Records.Range(1, 100, 1, 1000));
        Assert.Single(log.Read(1, 101, 1));
        var some = log.Read(10, 101, 10_000);
        Assert.Equal(9, some.Count); // each record is 32 + 1000 bytes, 8-aligned = 1032
        Assert.Equal(10UL, some[0].Index);
        Assert.Empty(log.Read(5, 5, 100));
        Assert.Throws<LogIndexUnavailableException>(() => log.Read(1, 102, 100));
    }

    [Fact]
    public async Task Unflushed_appends_are_readable()
    {
        using var dir = new TempDirectory();
        using var log = RaftLog.Open(Records.Options(dir.Path));
        log.Append(Records.Range(1, 3, 1));
        Assert.Equal(3UL, log.LastIndex);
        Records.AssertSame(Records.Make(2, 1), log.Read(2, 3, 1000)[0]);
        await log.FlushAsync();
    }

    [Fact]
    public async Task Truncate_suffix_is_durable_and_appends_continue()
    {
        using var dir = new TempDirectory();
        using (var log = RaftLog.Open(Records.Options(dir.Path)))
        {
            await log.AppendAndFlushAsync(Records.Range(1, 1000, 1));
            log.TruncateSuffix(301);
            Assert.Equal(300UL, log.LastIndex);
            Assert.Throws<LogIndexUnavailableException>(() => log.Term(301));
            await log.AppendAndFlushAsync(Records.Range(301, 10, 2));
        }
        using (var log = RaftLog.Open(Records.Options(dir.Path)))
        {
            Assert.False(log.Recovery.TornTailTruncated, log.Recovery.Detail);
            Assert.Equal(310UL, log.LastIndex);
            Assert.Equal(1UL, log.Term(300));
            Assert.Equal(2UL, log.Term(301));
            Records.AssertSame(Records.Make(305, 2), log.Read(305, 306, 1000)[0]);
        }
    }

    [Fact]
    public async Task Append_truncates_only_a_conflicting_suffix()
    {
        using var dir = new TempDirectory();
        using var log = RaftLog.Open(Records.Options(dir.Path));
        await log.AppendAndFlushAsync(Records.Range(1, 10, 1));
        // Same terms: idempotent re-append keeps everything.
        await log.AppendAndFlushAsync(Records.Range(4, 3, 1));
        Assert.Equal(10UL, log.LastIndex);
        // A new leader's entries from 6 on conflict: 6..10 go, 6..7 replace them.
        await log.AppendAndFlushAsync([Records.Make(5, 1), Records.Make(6, 2), Records.Make(7, 2)]);
        Assert.Equal(7UL, log.LastIndex);
        Assert.Equal(1UL, log.Term(5));
        Assert.Equal(2UL, log.Term(6));
        Assert.Throws<InvalidOperationException>(() => log.Append([Records.Make(9, 2)]));
        Assert.Throws<ArgumentException>(() => log.Append([Records.Make(8, 1)]));
        Assert.Throws<ArgumentException>(() => log.Append([Records.Make(8, 2), Records.Make(10, 2)]));
    }

    [Fact]
    public async Task Compaction_deletes_whole_segments_and_keeps_the_boundary_term()
    {
        using var dir = new TempDirectory();
        using (var log = RaftLog.Open(Records.Options(dir.Path)))
        {
            await log.AppendAndFlushAsync(Records.Range(1, 2000, 1));
            await log.AppendAndFlushAsync(Records.Range(2001, 10, 2));
            var before = Directory.GetFiles(dir.Path, "*.seg").Length;
            log.CompactPrefix(1500, 1);
            Assert.True(Directory.GetFiles(dir.Path, "*.seg").Length < before);
            Assert.Equal(1500UL, log.SnapshotIndex);
            Assert.Equal(1501UL, log.FirstIndex);
            Assert.Equal(1UL, log.Term(1500));
            Assert.Equal(TermLookup.Compacted, log.TryGetTerm(1499, out _));
            Assert.Throws<LogIndexUnavailableException>(() => log.Read(1500, 1600, long.MaxValue));
            Assert.Equal(100, log.Read(1501, 1601, long.MaxValue).Count);
            Assert.Throws<InvalidOperationException>(() => log.CompactPrefix(2005, 1)); // wrong term
            Assert.Throws<InvalidOperationException>(() => log.TruncateSuffix(1400));
        }
        using (var log = RaftLog.Open(Records.Options(dir.Path)))
        {
            Assert.Equal(1500UL, log.SnapshotIndex);
            Assert.Equal(1UL, log.SnapshotTerm);
            Assert.Equal(2010UL, log.LastIndex);
            Records.AssertSame(Records.Make(1501, 1), log.Read(1501, 1502, 10)[0]);
            log.CompactPrefix(2010, 2);
            Assert.Equal(2010UL, log.LastIndex);
            Assert.Equal(2UL, log.Term(2010));
            await log.AppendAndFlushAsync([Records.Make(2011, 3)]);
        }
        using (var log = RaftLog.Open(Records.Options(dir.Path)))
        {
            Assert.Equal(2011UL, log.LastIndex);
            Assert.Equal(2UL, log.Term(2010));
        }
    }

    [Fact]
    public async Task Reset_to_snapshot_drops_the_log_and_continues_after_it()
    {
        using var dir = new TempDirectory();
        using (var log = RaftLog.Open(Records.Options(dir.Path)))
        {
            await log.AppendAndFlushAsync(Records.Range(1, 300, 1));
            log.ResetToSnapshot(5000, 7);
            Assert.Equal(5000UL, log.LastIndex);
            Assert.Equal(5001UL, log.FirstIndex);
            Assert.Equal(7UL, log.Term(5000));
            Assert.Equal(7UL, log.LastTerm);
            Assert.Throws<InvalidOperationException>(() => log.Append([Records.Make(5002, 7)]));
            await log.AppendAndFlushAsync([Records.Make(5001, 8)]);
            // CompactPrefix beyond the end behaves like a reset.
            log.CompactPrefix(9000, 9);
            Assert.Equal(9000UL, log.LastIndex);
            await log.AppendAndFlushAsync([Records.Make(9001, 9)]);
        }
        using (var log = RaftLog.Open(Records.Options(dir.Path)))
        {
            Assert.Equal(9000UL, log.SnapshotIndex);
            Assert.Equal(9001UL, log.LastIndex);
            Assert.Single(Directory.GetFiles(dir.Path, "*.seg"));
        }
    }

    [Theory]
    [InlineData(1, 0)]
    [InlineData(2, 0)]
    [InlineData(4, 2)]
    public async Task Concurrent_appenders_get_unique_contiguous_indexes_and_share_fsyncs(int concurrentSyncs, int delayMs)
    {
        using var dir = new TempDirectory();
        const int writers = 64;
        const int perWriter = 50;
        var options = Records.Options(dir.Path, 1 << 20) with
        {
            MaxConcurrentSyncs = concurrentSyncs,
            MaxGroupCommitDelay = delayMs > 0 ? TimeSpan.FromMilliseconds(delayMs) : null,
        };
        using (var log = RaftLog.Open(options))
        {
            var results = await Task.WhenAll(Enumerable.Range(0, writers).Select(w => Task.Run(async () =>
            {
                var mine = new List<ulong>();
                for (var i = 0; i < perWriter; i++)
                {
                    mine.Add(await log.AppendNextAndFlushAsync(1, 0, BitConverter.GetBytes((w << 16) | i)));
                }
                return mine;
            })));
            var all = results.SelectMany(r => r).Order().ToList();
            Assert.Equal(Enumerable.Range(1, writers * perWriter).Select(i => (ulong)i), all);
            Assert.True(log.GroupCommitCount < writers * perWriter, $"{log.GroupCommitCount} group commits for {writers * perWriter} appends: no batching");
        }
        using (var log = RaftLog.Open(Records.Options(dir.Path, 1 << 20)))
        {
            var seen = log.Read(1, (ulong)(writers * perWriter) + 1, long.MaxValue).Select(r => BitConverter.ToInt32(r.Payload.Span)).ToHashSet();
            Assert.Equal(writers * perWriter, seen.Count);
        }
    }

    [Fact]
    public async Task Readers_see_consistent_entries_while_appenders_run()
    {
        using var dir = new TempDirectory();
        using var log = RaftLog.Open(Records.Options(dir.Path, 128 << 10));
        using var stop = new CancellationTokenSource();
        var appenders = Enumerable.Range(0, 8).Select(_ => Task.Run(async () =>
        {
            for (var i = 0; i < 300; i++)
            {
                var payload = new byte[64];
                Array.Fill(payload, (byte)i);
                await log.AppendNextAndFlushAsync(1, 1, payload);
            }
        })).ToArray();
        var reads = 0;
        var reader = Task.Run(() =>
        {
            while (!appenders.All(a => a.IsCompleted) && reads < 100_000)
            {
                var last = log.LastIndex;
                if (last == 0)
                {
                    continue;
                }
                var from = last > 50 ? last - 50 : 1;
                var got = log.Read(from, last + 1, long.MaxValue);
                Assert.Equal((int)(last + 1 - from), got.Count);
                foreach (var r in got)
                {
                    Assert.True(r.Payload.Span.IndexOfAnyExcept(r.Payload.Span[0]) < 0, $"entry {r.Index} torn");
                }
                reads++;
            }
        });
        await Task.WhenAll(appenders);
        await reader;
        Assert.Equal(2400UL, log.LastIndex);
        Assert.True(reads > 0);
    }

    [Fact]
    public async Task Rolling_uses_the_zero_filled_spare_and_prepares_the_next()
    {
        using var dir = new TempDirectory();
        var spare = Path.Combine(dir.Path, "next.spare");
        using (var log = RaftLog.Open(Records.Options(dir.Path)))
        {
            Assert.True(SpinWait.SpinUntil(() => File.Exists(spare), TimeSpan.FromSeconds(10)), "spare never prepared");
            var zeroFilled = File.ReadAllBytes(spare);
            Assert.Equal(64 << 10, zeroFilled.Length);
            Assert.DoesNotContain(zeroFilled, b => b != 0);
            await log.AppendAndFlushAsync(Records.Range(1, 600, 1)); // 600 x 136 bytes: rolls into the spare
            Assert.Equal(2, Directory.GetFiles(dir.Path, "*.seg").Length);
            Assert.True(SpinWait.SpinUntil(() => File.Exists(spare), TimeSpan.FromSeconds(10)), "next spare never prepared");
        }
        using (var log = RaftLog.Open(Records.Options(dir.Path)))
        {
            Assert.False(log.Recovery.TornTailTruncated);
            Assert.Equal(600UL, log.LastIndex);
            Records.AssertSame(Records.Make(599, 1), log.Read(599, 600, 1000)[0]);
        }
    }

    [Fact]
    public void Options_validate_themselves()
    {
        Assert.Throws<ArgumentException>(() => new RaftLogOptions { Directory = "" }.Validate());
        Assert.Throws<ArgumentException>(() => new RaftLogOptions { Directory = "/x", SegmentBytes = 10 }.Validate());
        Assert.Throws<ArgumentException>(() => new RaftLogOptions { Directory = "/x", MaxGroupCommitDelay = TimeSpan.FromSeconds(1) }.Validate());
        new RaftLogOptions { Directory = "/x" }.Validate();
    }

    [Fact]
    public async Task Disposed_log_rejects_calls()
    {
        using var dir = new TempDirectory();
        var log = RaftLog.Open(Records.Options(dir.Path));
        await log.AppendAndFlushAsync([Records.Make(1, 1)]);
        await log.DisposeAsync();
        Assert.Throws<ObjectDisposedException>(() => log.Append([Records.Make(2, 1)]));
    }
}
