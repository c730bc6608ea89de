using System.Collections.Concurrent;
using System.Diagnostics;
using HaMaster.Bench.Load;

namespace HaMaster.Client.Tests;

public sealed class FleetTests
{
    [Fact]
    public async Task Schedule_calls_every_member_once_per_period_in_phase_order()
    {
        const int count = 5;
        var period = TimeSpan.FromMilliseconds(100);
        var calls = new ConcurrentQueue<(int Member, long At)>();
        var start = Stopwatch.GetTimestamp();
        var stopAt = start + (long)(0.35 * Stopwatch.Frequency);

        await PeriodicSchedule.RunAsync(count, period, start, stopAt, i =>
        {
            calls.Enqueue((i, Stopwatch.GetTimestamp()));
            return Task.CompletedTask;
        }, CancellationToken.None);

        // Members are due at 0, 20, 40, 60, 80 ms, then every 100 ms: the schedule's due times are
        // 0, 20, ..., 340 ms before the 350 ms stop, 18 calls: 4 for members 0-2, 3 for members 3-4.
        var byMember = calls.GroupBy(c => c.Member).ToDictionary(g => g.Key, g => g.Select(c => c.At).ToList());
        Assert.Equal(18, calls.Count);
        Assert.Equal([4, 4, 4, 3, 3], Enumerable.Range(0, count).Select(i => byMember[i].Count));
        // Never early: call j of member i is not before start + (i * 20 + j * 100) ms.
        foreach (var (member, at) in byMember)
        {
            for (var j = 0; j < at.Count; j++)
            {
                var dueMs = member * 20 + j * 100;
                Assert.True(Stopwatch.GetElapsedTime(start, at[j]).TotalMilliseconds >= dueMs - 1, $"member {member} call {j} ran before its due time {dueMs} ms");
            }
        }

        // The first round goes in phase order.
        Assert.Equal(Enumerable.Range(0, count), calls.Take(count).Select(c => c.Member));
    }

    [Fact]
    public async Task A_slow_member_is_never_called_twice_at_once_and_is_called_again_when_it_finishes()
    {
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var inFlight = new int[2];
        var maxInFlight = new int[2];
        var calls = new int[2];
        var secondCallOfSlow = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var thirdCallOfOther = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        using var stop = new CancellationTokenSource();
        var start = Stopwatch.GetTimestamp();
        var stopAt = start + (long)(60 * Stopwatch.Frequency); // ended by `stop`, not by time

        // Period 200 ms: member 0 is due at 0, 200, 400, ... ms, member 1 at 100, 300, 500, ... ms.
        var run = PeriodicSchedule.RunAsync(2, TimeSpan.FromMilliseconds(200), start, stopAt, async i =>
        {
            var n = Interlocked.Increment(ref inFlight[i]);
            InterlockedMax(ref maxInFlight[i], n);
            var call = Interlocked.Increment(ref calls[i]);
            try
            {
                if (i == 0 && call == 1)
                {
                    await release.Task; // member 0's first call hangs until released
                }
                else if (i == 0 && call == 2)
                {
                    secondCallOfSlow.TrySetResult();
                }
                else if (i == 1 && call == 3)
                {
                    thirdCallOfOther.TrySetResult();
                }
            }
            finally
            {
                Interlocked.Decrement(ref inFlight[i]);
            }
        }, stop.Token);

        // Member 1 keeps its schedule while member 0 hangs (through its due times at 200 and 400 ms).
        await thirdCallOfOther.Task.WaitAsync(TimeSpan.FromSeconds(10));
        Assert.Equal(1, Volatile.Read(ref calls[0]));
        release.SetResult();

        // The owed call runs at once (before member 0's next due time, 600 ms), once: not a burst
        // of every missed one.
        await secondCallOfSlow.Task.WaitAsync(TimeSpan.FromSeconds(10));
        var made = Volatile.Read(ref calls[0]);
        if (Stopwatch.GetElapsedTime(start) < TimeSpan.FromMilliseconds(600))
        {
            Assert.Equal(2, made);
        }

        stop.Cancel();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => run.WaitAsync(TimeSpan.FromSeconds(10)));
        Assert.Equal(0, inFlight[0] + inFlight[1]); // cancelling still waited for the calls under way
        Assert.Equal(1, maxInFlight[0]);
        Assert.Equal(1, maxInFlight[1]);
        Assert.InRange(calls[0], 2, calls[1] + 1);
    }

    [Fact]
    public async Task Schedule_waits_for_running_calls_and_survives_throwing_ones()
    {
        var finished = 0;
        var start = Stopwatch.GetTimestamp();
        await PeriodicSchedule.RunAsync(3, TimeSpan.FromMilliseconds(30), start, start + (long)(0.025 * Stopwatch.Frequency), async i =>
        {
            if (i == 1) throw new InvalidOperationException("boom");
            await Task.Delay(100);
            Interlocked.Increment(ref finished);
        }, CancellationToken.None);

        // Members are due at 0, 10 and 20 ms, once each before the 25 ms stop; member 1 threw, and
        // the schedule returned only after the 100 ms calls of members 0 and 2 had finished.
        Assert.Equal(2, finished);
    }

    [Fact]
    public async Task Schedule_rejects_bad_arguments_and_does_nothing_for_no_members()
    {
        var now = Stopwatch.GetTimestamp();
        await Assert.ThrowsAsync<ArgumentOutOfRangeException>(() => PeriodicSchedule.RunAsync(-1, TimeSpan.FromSeconds(1), now, now, _ => Task.CompletedTask, CancellationToken.None));
        await Assert.ThrowsAsync<ArgumentOutOfRangeException>(() => PeriodicSchedule.RunAsync(1, TimeSpan.Zero, now, now, _ => Task.CompletedTask, CancellationToken.None));
        var called = false;
        await PeriodicSchedule.RunAsync(0, TimeSpan.FromSeconds(1), now, now + Stopwatch.Frequency, _ => { called = true; return Task.CompletedTask; }, CancellationToken.None);
        Assert.False(called);
    }

    private static void InterlockedMax(ref int target, int value)
    {
        int current;
        while ((current = Volatile.Read(ref target)) < value && Interlocked.CompareExchange(ref target, value, current) != current)
        {
        }
    }
}
