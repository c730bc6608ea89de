using HaMaster.Chaos.Core.Files;
using HaMaster.Metadata.Store.Caching;
using HaMaster.Protos.V1;

namespace HaMaster.Metadata.Tests;

public sealed class ConcurrencyAndCacheTests
{
    public static TheoryData<string> Kinds => StoreKinds.All;

    /// <summary>Each batch moves files between /a and /b; a read (one listing of "/") must always see
    /// a state between two batches, so the children of /a and /b always add up to the total.</summary>
    [Theory]
    [MemberData(nameof(Kinds))]
    public void ReadsRunningDuringApplySeeWholeBatches(string kind)
    {
        using var dir = new TempDirectory();
        using var sm = MetadataStateMachine.Open(dir.Path, StoreKinds.Options(kind));
        var f = new EntryFactory();
        const int files = 40;
        sm.ApplyBatch([f.Indexed(f.Mkdir("/a")), f.Indexed(f.Mkdir("/b")), .. Enumerable.Range(0, files).Select(i => f.Indexed(f.Create($"/a/x{i}")))]);

        using var stop = new CancellationTokenSource();
        var reads = 0;
        var readers = Enumerable.Range(0, 2).Select(_ => Task.Run(() =>
        {
            while (!stop.IsCancellationRequested)
            {
                var root = sm.ListStatus("/").Value!;
                var total = root.Entries.Where(e => e.Name is "a" or "b").Sum(e => (long)e.ChildCount);
                Assert.Equal(files, total);
                var a = sm.ListStatus("/a", 1000).Value!;
                Assert.Equal(a.Entries.Select(e => e.Name).Distinct().Count(), a.Entries.Count);
                Interlocked.Increment(ref reads);
            }
        })).ToArray();

        var random = new Random(5);
        var inA = Enumerable.Range(0, files).ToHashSet();
        for (var round = 0; round < 300; round++)
        {
            var batch = new List<(ulong, ulong, JournalEntry)>();
            foreach (var i in Enumerable.Range(0, files).OrderBy(_ => random.Next()).Take(5))
            {
                var (from, to) = inA.Contains(i) ? ("/a", "/b") : ("/b", "/a");
                batch.Add(f.Indexed(f.Rename($"{from}/x{i}", $"{to}/x{i}")));
                if (!inA.Remove(i))
                {
                    inA.Add(i);
                }
            }

            Assert.All(sm.ApplyBatch(batch), r => Assert.Equal(MetadataStatus.Ok, r.Status));
        }

        // Let the readers observe the final state at least once, bounded in time.
        var target = Volatile.Read(ref reads) + 2;
        SpinWait.SpinUntil(() => Volatile.Read(ref reads) >= target, TimeSpan.FromSeconds(30));
        stop.Cancel();
        Task.WaitAll(readers, TimeSpan.FromSeconds(30));
        Assert.True(reads > 0);
        Assert.Equal((ulong)inA.Count, sm.GetStatus("/a").Value!.ChildCount);
    }

    [Fact]
    public void ClockCacheStaysBoundedAndKeepsReferencedEntries()
    {
        var cache = new ClockCache<int, string>(4);
        for (var i = 0; i < 4; i++)
        {
            cache.Set(i, "v" + i);
        }

        Assert.True(cache.TryGet(0, out _));
        Assert.True(cache.TryGet(1, out _));
        cache.Set(10, "v10");
        cache.Set(11, "v11");
        Assert.Equal(4, cache.Count);
        Assert.True(cache.TryGet(0, out var zero));
        Assert.Equal("v0", zero);
        Assert.True(cache.TryGet(1, out _));
        Assert.False(cache.TryGet(2, out _));
        Assert.False(cache.TryGet(3, out _));
        Assert.Equal((4L, 2L), (cache.Hits, cache.Misses));

        cache.Update(99, "ignored");
        Assert.False(cache.TryGet(99, out _));
        cache.Update(10, "new");
        Assert.True(cache.TryGet(10, out var ten));
        Assert.Equal("new", ten);
        cache.Remove(10);
        Assert.False(cache.TryGet(10, out _));
        for (var i = 100; i < 200; i++)
        {
            cache.Set(i, "x");
        }

        Assert.Equal(4, cache.Count);
    }

    [Fact]
    public void CachingStoreCountsHitsAndMisses()
    {
        using var dir = new TempDirectory();
        using var sm = MetadataStateMachine.Open(dir.Path, new MetastoreOptions { InodeCacheMaxEntries = 100 });
        var f = new EntryFactory();
        sm.Apply(f, f.Create("/d/f", recursive: true));
        var before = sm.InodeCache;
        for (var i = 0; i < 10; i++)
        {
            Assert.True(sm.GetStatus("/d/f").IsOk);
        }

        var after = sm.InodeCache;
        Assert.True(after.Hits - before.Hits >= 40, $"{before} -> {after}");
        Assert.True(after.Misses - before.Misses <= 5, $"{before} -> {after}");
        Assert.InRange(after.Entries, 1, 200);

        using var uncached = MetadataStateMachine.Open(dir.Sub("plain"), new MetastoreOptions { InodeCacheMaxEntries = 0 });
        Assert.Equal(default, uncached.InodeCache);
    }
}
