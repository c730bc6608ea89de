using System.Diagnostics;
using HaMaster.Protos.V1;
using HaMaster.Server.Workers;

namespace HaMaster.Server.Tests.Workers;

public sealed class WorkerBeatsTests
{
    private static TierUsage[] Usage(ulong used) => [new TierUsage { Tier = "MEM", CapacityBytes = 1UL << 30, UsedBytes = used }];

    [Fact]
    public void A_beat_records_its_time_and_a_copy_of_the_tier_usage()
    {
        var beats = new WorkerBeats();
        Assert.Null(beats.LastMonotonicTicks(7));
        Assert.Equal(0, beats.LastWallClockMs(7));
        Assert.Null(beats.LastTiers(7));

        var before = Stopwatch.GetTimestamp();
        var wallBefore = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
        var reported = Usage(5);
        beats.Record(7, reported);

        Assert.InRange(beats.LastMonotonicTicks(7)!.Value, before, Stopwatch.GetTimestamp());
        Assert.InRange(beats.LastWallClockMs(7), wallBefore, DateTimeOffset.UtcNow.ToUnixTimeMilliseconds());
        var stored = beats.LastTiers(7)!;
        Assert.Equal(reported, stored);

        // The request's objects are not kept: changing them afterwards changes nothing stored.
        reported[0].UsedBytes = 99;
        Assert.Equal(5UL, beats.LastTiers(7)![0].UsedBytes);
        Assert.NotSame(reported[0], stored[0]);
    }

    [Fact]
    public void Unchanged_usage_is_not_copied_again_changed_usage_is_and_a_beat_without_usage_keeps_it()
    {
        var beats = new WorkerBeats();
        beats.Record(1, Usage(10));
        var first = beats.LastTiers(1);

        beats.Record(1, Usage(10));
        Assert.Same(first, beats.LastTiers(1));

        beats.Record(1, Usage(11));
        Assert.NotSame(first, beats.LastTiers(1));
        Assert.Equal(11UL, beats.LastTiers(1)![0].UsedBytes);

        // A block commit proves liveness but reports no usage: the last usage stays.
        var beforeCommit = beats.LastMonotonicTicks(1)!.Value;
        beats.Record(1, null);
        Assert.Equal(11UL, beats.LastTiers(1)![0].UsedBytes);
        Assert.True(beats.LastMonotonicTicks(1) >= beforeCommit);

        // An empty report clears it.
        beats.Record(1, []);
        Assert.Null(beats.LastTiers(1));
    }

    [Fact]
    public void Workers_are_independent_and_can_be_forgotten()
    {
        var beats = new WorkerBeats();
        beats.Record(1, Usage(1));
        beats.Record(2, Usage(2));
        beats.Remove(1);
        Assert.Null(beats.LastMonotonicTicks(1));
        Assert.Equal(2UL, beats.LastTiers(2)![0].UsedBytes);
        beats.Clear();
        Assert.Null(beats.LastMonotonicTicks(2));
    }

    [Fact]
    public async Task Concurrent_beats_of_many_workers_are_all_recorded()
    {
        var beats = new WorkerBeats();
        await Parallel.ForAsync(0, 2000, (i, _) =>
        {
            beats.Record((ulong)(i % 200), Usage((ulong)(i % 200)));
            return ValueTask.CompletedTask;
        });
        for (ulong w = 0; w < 200; w++)
        {
            Assert.Equal(w, beats.LastTiers(w)![0].UsedBytes);
        }
    }
}
