using System.Diagnostics;

namespace HaMaster.Bench.Load;

/// <summary>
/// Calls each of <c>count</c> members once per period, member i first at
/// <c>start + i * period / count</c> (an even spread), from one timer. The fleet used a
/// <see cref="PeriodicTimer"/> per simulated client: with 10,000 of them the runtime's timer queue
/// scans cost the load generator more CPU than its requests did (perf: ~18% of each load process).
/// A member whose previous call is still running when it is due is called again as soon as that
/// call ends (at most one call in flight per member, at most one owed call), as a per-member
/// <see cref="PeriodicTimer"/> would. Calls are due only before <c>stopAt</c>; the returned task
/// ends when the last call started has finished.
/// </summary>
internal static class PeriodicSchedule
{
    /// <summary>How often the one timer looks for due members.</summary>
    private static readonly TimeSpan Resolution = TimeSpan.FromMilliseconds(2);

    public static async Task RunAsync(int count, TimeSpan period, long startTimestamp, long stopAt, Func<int, Task> call, CancellationToken cancellationToken)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(count);
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(period, TimeSpan.Zero);
        ArgumentNullException.ThrowIfNull(call);
        if (count == 0)
        {
            return;
        }

        var members = new Member[count];
        for (var i = 0; i < count; i++)
        {
            members[i] = new Member(i, call);
        }

        // All members share the period and their phases grow with i, so the k-th call of the whole
        // schedule is member k % count at start + k * period / count: a cursor, not a priority queue.
        var periodTicks = period.TotalSeconds * Stopwatch.Frequency;
        long k = 0;
        using var timer = new PeriodicTimer(Resolution);
        try
        {
            while (true)
            {
                var now = Stopwatch.GetTimestamp();
                while (true)
                {
                    var due = startTimestamp + (long)(k * periodTicks / count);
                    if (due > now || due >= stopAt)
                    {
                        break;
                    }

                    members[k % count].Due();
                    k++;
                }

                if (now >= stopAt || !await timer.WaitForNextTickAsync(cancellationToken).ConfigureAwait(false))
                {
                    break;
                }
            }
        }
        finally
        {
            foreach (var m in members)
            {
                m.StopOwing();
            }

            await Task.WhenAll(members.Select(m => m.Idle)).ConfigureAwait(false);
        }
    }

    private sealed class Member(int index, Func<int, Task> call)
    {
        private readonly Lock _gate = new();
        private bool _running;
        private bool _owed;
        private bool _stopped;
        private TaskCompletionSource? _idle;

        public Task Idle
        {
            get
            {
                lock (_gate)
                {
                    if (!_running)
                    {
                        return Task.CompletedTask;
                    }

                    _idle ??= new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
                    return _idle.Task;
                }
            }
        }

        public void Due()
        {
            lock (_gate)
            {
                if (_running)
                {
                    _owed = true;
                    return;
                }

                _running = true;
            }

            _ = RunAsync();
        }

        public void StopOwing()
        {
            lock (_gate)
            {
                _stopped = true;
                _owed = false;
            }
        }

        private async Task RunAsync()
        {
            while (true)
            {
                try
                {
                    await call(index).ConfigureAwait(false);
                }
                catch
                {
                    // The caller records its own failures; a throwing call must not stop the member.
                }

                TaskCompletionSource? idle = null;
                lock (_gate)
                {
                    if (_owed && !_stopped)
                    {
                        _owed = false;
                        continue;
                    }

                    _running = false;
                    (idle, _idle) = (_idle, null);
                }

                idle?.TrySetResult();
                return;
            }
        }
    }
}
