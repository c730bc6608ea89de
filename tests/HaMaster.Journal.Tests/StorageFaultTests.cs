using HaMaster.Chaos.Core.Files;
namespace HaMaster.Journal.Tests;

/// <summary>Disk full, permission denied, fsync errors and lost unsynced writes, injected through <see cref="IStorageFaults"/>.</summary>
public class StorageFaultTests
{
    [Fact]
    public async Task Disk_full_fails_clearly_and_loses_nothing_acknowledged()
    {
        using var dir = new TempDirectory();
        var faults = new StorageFaultInjector();
        var acknowledged = Records.Range(1, 100, 1);
        using (var log = RaftLog.Open(Records.Options(dir.Path), faults))
        {
            await log.AppendAndFlushAsync(acknowledged);
            faults.WriteError = StorageFaultInjector.DiskFull();
            var e = await Assert.ThrowsAsync<JournalFailedException>(async () => await log.AppendAndFlushAsync(Records.Range(101, 5, 1)));
            Assert.Contains("No space left on device", e.Message);
            Assert.Contains("free space", e.Message);
            // The log stays failed (page cache state unknown) until reopened.
            Assert.Throws<JournalFailedException>(() => log.Append(Records.Range(106, 1, 1)));
            await Assert.ThrowsAsync<JournalFailedException>(async () => await log.FlushAsync());
        }
        using (var log = RaftLog.Open(Records.Options(dir.Path)))
        {
            Assert.Equal(100UL, log.LastIndex);
            var read = log.Read(1, 101, long.MaxValue);
            for (var i = 0; i < 100; i++)
            {
                Records.AssertSame(acknowledged[i], read[i]);
            }
            await log.AppendAndFlushAsync(Records.Range(101, 5, 1));
        }
    }

    [Fact]
    public async Task Permission_denied_when_creating_a_segment_fails_clearly()
    {
        using var dir = new TempDirectory();
        var faults = new StorageFaultInjector();
        // Without a zero-filled spare, rolling creates the next segment file right then.
        using (var log = RaftLog.Open(Records.Options(dir.Path) with { ZeroFillSegments = false }, faults))
        {
            await log.AppendAndFlushAsync(Records.Range(1, 400, 1)); // fills most of the first 64 KiB segment
            faults.CreateError = StorageFaultInjector.PermissionDenied();
            var e = Assert.Throws<JournalFailedException>(() => log.Append(Records.Range(401, 200, 1)));
            Assert.Contains("Permission denied", e.Message);
            Assert.Contains("creating segment", e.Message);
        }
        using (var log = RaftLog.Open(Records.Options(dir.Path)))
        {
            Assert.True(log.LastIndex >= 400);
            Assert.Equal(400, log.Read(1, 401, long.MaxValue).Count);
        }
    }

    [Fact]
    public async Task Fsync_error_fails_every_waiter_and_the_log()
    {
        using var dir = new TempDirectory();
        var faults = new StorageFaultInjector();
        using var log = RaftLog.Open(Records.Options(dir.Path), faults);
        await log.AppendAndFlushAsync(Records.Range(1, 10, 1));
        faults.SyncError = StorageFaultInjector.InputOutputError();
        var waiters = Enumerable.Range(0, 8).Select(_ => log.AppendNextAndFlushAsync(1, 0, new byte[10]).AsTask()).ToList();
        foreach (var waiter in waiters)
        {
            var e = await Assert.ThrowsAsync<JournalFailedException>(() => waiter);
            Assert.Contains("Input/output error", e.Message);
        }
    }

    [Fact]
    public void Synchronous_flush_makes_appended_entries_survive_power_loss()
    {
        using var dir = new TempDirectory();
        var faults = new StorageFaultInjector();
        var log = RaftLog.Open(Records.Options(dir.Path), faults);
        var syncsBefore = log.FsyncCount;
        log.Append(Records.Range(1, 40, 1));
        log.Flush(); // on this thread: durable when it returns
        Assert.True(log.FsyncCount > syncsBefore);
        log.Flush(); // nothing new appended: no round, no error
        log.Append(Records.Range(41, 10, 1)); // never flushed
        log.Read(41, 51, long.MaxValue);      // forces the write to the OS
        faults.Crash();
        log.Dispose();
        faults.LoseUnsyncedWrites();
        using var reopened = RaftLog.Open(Records.Options(dir.Path));
        Assert.Equal(40UL, reopened.LastIndex);
        Records.AssertSame(Records.Make(40, 1), reopened.Read(40, 41, 1000)[0]);
    }

    [Fact]
    public async Task Synchronous_flush_reports_an_fsync_error_and_fails_the_log()
    {
        using var dir = new TempDirectory();
        var faults = new StorageFaultInjector();
        using var log = RaftLog.Open(Records.Options(dir.Path), faults);
        log.Append(Records.Range(1, 5, 1));
        log.Flush();
        faults.SyncError = StorageFaultInjector.InputOutputError();
        log.Append(Records.Range(6, 5, 1));
        var e = Assert.Throws<JournalFailedException>(log.Flush);
        Assert.Contains("Input/output error", e.Message);
        // Waiters of the asynchronous path see the same failure.
        await Assert.ThrowsAsync<JournalFailedException>(async () => await log.FlushAsync());
    }

    [Fact]
    public async Task Synchronous_and_asynchronous_flushes_interleave_without_losing_acknowledgements()
    {
        using var dir = new TempDirectory();
        var faults = new StorageFaultInjector();
        var log = RaftLog.Open(Records.Options(dir.Path, 128 << 10) with { MaxConcurrentSyncs = 2 }, faults);
        var acknowledged = new System.Collections.Concurrent.ConcurrentBag<ulong>();
        // One thread keeps running rounds synchronously (taking rounds the flusher threads would
        // otherwise take) while writers wait on group commit: every waiter must still complete,
        // in order, and stay durable.
        using var done = new CancellationTokenSource();
        var syncFlusher = Task.Run(() =>
        {
            var rounds = 0;
            while (!done.IsCancellationRequested && rounds < 100_000)
            {
                log.Flush();
                rounds++;
            }
        });
        var asyncWriters = Enumerable.Range(0, 4).Select(w => Task.Run(async () =>
        {
            for (var i = 0; i < 300; i++) acknowledged.Add(await log.AppendNextAndFlushAsync(1, 0, BitConverter.GetBytes(i)));
        })).ToList();
        await Task.WhenAll(asyncWriters);
        await done.CancelAsync();
        await syncFlusher;
        faults.Crash();
        log.Dispose();
        faults.LoseUnsyncedWrites();
        using var reopened = RaftLog.Open(Records.Options(dir.Path, 128 << 10));
        Assert.Equal(1200, acknowledged.Count);
        Assert.Equal(1200, acknowledged.Distinct().Count());
        Assert.True(reopened.LastIndex >= acknowledged.Max(), "an acknowledged entry was lost");
    }

    [Fact]
    public async Task Power_loss_keeps_exactly_the_acknowledged_prefix()
    {
        using var dir = new TempDirectory();
        var faults = new StorageFaultInjector();
        var log = RaftLog.Open(Records.Options(dir.Path), faults);
        await log.AppendAndFlushAsync(Records.Range(1, 100, 1));
        log.Append(Records.Range(101, 50, 1)); // never acknowledged
        log.Read(101, 151, long.MaxValue);     // forces the write to the OS
        faults.Crash();
        log.Dispose();
        Assert.True(faults.LoseUnsyncedWrites() > 0);
        using var reopened = RaftLog.Open(Records.Options(dir.Path));
        Assert.Equal(100UL, reopened.LastIndex);
        Records.AssertSame(Records.Make(100, 1), reopened.Read(100, 101, 1000)[0]);
    }

    [Fact]
    public async Task Torn_writes_at_random_points_never_lose_acknowledged_entries()
    {
        var seed = Environment.GetEnvironmentVariable("JOURNAL_TEST_SEED") is { } s ? int.Parse(s) : 4242;
        var random = new Random(seed);
        using var dir = new TempDirectory();
        ulong acknowledged = 0;
        for (var round = 0; round < 20; round++)
        {
            var faults = new StorageFaultInjector();
            var log = RaftLog.Open(Records.Options(dir.Path), faults);
            Assert.True(log.LastIndex >= acknowledged, $"seed {seed} round {round}: lost acknowledged entries ({log.LastIndex} < {acknowledged})");
            log.TruncateSuffix(acknowledged + 1);
            faults.CrashAfterBytes = random.Next(1, 40_000);
            try
            {
                for (var batch = 0; batch < 100; batch++)
                {
                    var first = log.LastIndex + 1;
                    await log.AppendAndFlushAsync(Records.Range(first, (ulong)random.Next(1, 30), 1, random.Next(0, 400)));
                    acknowledged = log.LastIndex;
                }
            }
            catch (JournalFailedException e) when (e.InnerException is SimulatedCrashException)
            {
            }
            log.Dispose();
            faults.LoseUnsyncedWrites();
        }
        using var final = RaftLog.Open(Records.Options(dir.Path));
        Assert.True(final.LastIndex >= acknowledged, $"seed {seed}: lost acknowledged entries");
        Assert.Equal((int)final.LastIndex, final.Read(1, final.LastIndex + 1, long.MaxValue).Count);
    }

    [Fact]
    public async Task Power_loss_under_concurrent_group_commit_keeps_every_acknowledged_entry()
    {
        var seed = Environment.GetEnvironmentVariable("JOURNAL_TEST_SEED") is { } s ? int.Parse(s) : 777;
        var random = new Random(seed);
        using var dir = new TempDirectory();
        var acknowledged = new System.Collections.Concurrent.ConcurrentDictionary<ulong, int>();
        for (var round = 0; round < 10; round++)
        {
            var faults = new StorageFaultInjector();
            var log = RaftLog.Open(Records.Options(dir.Path, 128 << 10) with { MaxConcurrentSyncs = 2 }, faults);
            var context = $"seed {seed} round {round}";
            Assert.True(acknowledged.IsEmpty || log.LastIndex >= acknowledged.Keys.Max(), $"{context}: acknowledged entries lost");
            faults.CrashAfterBytes = random.Next(1_000, 200_000);
            var writers = Enumerable.Range(0, 32).Select(w => Task.Run(async () =>
            {
                for (var i = 0; i < 10_000; i++)
                {
                    var value = (round << 24) | (w << 16) | i;
                    ulong index;
                    try
                    {
                        index = await log.AppendNextAndFlushAsync(1, 0, BitConverter.GetBytes(value));
                    }
                    catch (JournalFailedException)
                    {
                        return;
                    }
                    Assert.True(acknowledged.TryAdd(index, value), $"{context}: index {index} acknowledged twice");
                }
            })).ToArray();
            await Task.WhenAll(writers);
            Assert.True(faults.Crashed, $"{context}: the crash never happened");
            log.Dispose();
            faults.LoseUnsyncedWrites();
        }
        using var final = RaftLog.Open(Records.Options(dir.Path, 128 << 10));
        foreach (var record in final.Read(1, acknowledged.Keys.Max() + 1, long.MaxValue))
        {
            if (acknowledged.TryGetValue(record.Index, out var value))
            {
                Assert.Equal(value, BitConverter.ToInt32(record.Payload.Span));
            }
        }
    }
}
