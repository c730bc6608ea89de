using System.Diagnostics;
using HaMaster.Server.Raft;

namespace HaMaster.Server.Tests.Raft;

/// <summary>The Raft loop's wake-up signal: a release is never lost, and releases coalesce.</summary>
public sealed class LoopWakeupTests
{
    [Fact]
    public void A_release_before_the_wait_returns_it_at_once()
    {
        using var wake = new LoopWakeup();
        wake.Release();
        var started = Stopwatch.GetTimestamp();
        Assert.True(wake.Wait(30_000, CancellationToken.None));
        Assert.True(Stopwatch.GetElapsedTime(started) < TimeSpan.FromSeconds(10));
    }

    [Fact]
    public void Releases_coalesce_into_one_wake_up_and_the_wait_consumes_it()
    {
        using var wake = new LoopWakeup();
        wake.Release();
        wake.Release();
        Assert.True(wake.Wait(0, CancellationToken.None));
        // The second release added nothing: the loop drains everything posted once it runs.
        Assert.False(wake.Wait(0, CancellationToken.None));
        Assert.False(wake.Wait(20, CancellationToken.None));
    }

    [Fact]
    public void A_release_from_another_thread_wakes_a_blocked_wait()
    {
        using var wake = new LoopWakeup();
        using var waiting = new ManualResetEventSlim();
        var waiter = Task.Factory.StartNew(
            () =>
            {
                waiting.Set();
                return wake.Wait(30_000, CancellationToken.None);
            },
            CancellationToken.None,
            TaskCreationOptions.LongRunning,
            TaskScheduler.Default);
        Assert.True(waiting.Wait(TimeSpan.FromSeconds(30)));
        wake.Release();
        Assert.True(waiter.Wait(TimeSpan.FromSeconds(30)), "the wait did not return after a release");
        Assert.True(waiter.Result);
    }

    [Fact]
    public void A_cancelled_token_ends_the_wait_once_released()
    {
        using var wake = new LoopWakeup();
        using var stopping = new CancellationTokenSource();
        stopping.Cancel();
        Assert.Throws<OperationCanceledException>(() => wake.Wait(30_000, stopping.Token));

        using var later = new CancellationTokenSource();
        var waiter = Task.Factory.StartNew(() => wake.Wait(30_000, later.Token), CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default);
        later.Cancel();
        wake.Release(); // as RaftHost.Dispose does after cancelling
        var error = Assert.Throws<AggregateException>(() => waiter.Wait(TimeSpan.FromSeconds(30)));
        Assert.IsAssignableFrom<OperationCanceledException>(error.InnerException);
    }
}
