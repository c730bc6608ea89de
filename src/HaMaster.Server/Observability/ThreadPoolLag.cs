using System.Diagnostics;

namespace HaMaster.Server.Observability;

/// <summary>
/// Measures how long a work item waits in the thread pool's queue: a dedicated thread queues a
/// probe every 100 ms while the pool has queued work (every second while it has none) and the
/// probe records how late it ran. The peer transport and the peer
/// port's handlers run on the same pool as the client port, so this delay is what a heartbeat
/// or an append acknowledgement waits for when the client port is flooded (issue 17). The gauge
/// is the largest delay seen in the last 10 s. Thread-safe.
/// </summary>
internal sealed class ThreadPoolLag : IDisposable
{
    private static readonly TimeSpan Period = TimeSpan.FromMilliseconds(100);
    private static readonly TimeSpan Window = TimeSpan.FromSeconds(10);
    private const int UnqueuedProbeEvery = 10;
    private readonly Thread _thread;
    private readonly CancellationTokenSource _stop = new();
    private readonly Lock _gate = new();
    private readonly Queue<(long At, double Seconds)> _recent = new();

    public ThreadPoolLag()
    {
        _thread = new Thread(Run) { IsBackground = true, Name = "threadpool-lag-probe" };
        _thread.Start();
    }

    /// <summary>Largest queueing delay of a probe in the last 10 s, in seconds.</summary>
    public double MaxRecentSeconds
    {
        get
        {
            lock (_gate)
            {
                Trim(Stopwatch.GetTimestamp());
                return _recent.Count == 0 ? 0 : _recent.Max(r => r.Seconds);
            }
        }
    }

    public void Dispose()
    {
        _stop.Cancel();
        _thread.Join(TimeSpan.FromSeconds(1));
        _stop.Dispose();
    }

    private void Run()
    {
        var skipped = 0;
        while (!_stop.Token.WaitHandle.WaitOne(Period))
        {
            // With nothing queued a probe would run at once (a delay of ~0 to record), yet queuing it
            // wakes an idle worker, which then spin-waits for more work: most of an idle master's
            // thread-pool CPU (issue 19). So probe when work is queued, and at least once a second
            // (workers all blocked in long work items with an empty queue still show up).
            if (ThreadPool.PendingWorkItemCount == 0 && ++skipped < UnqueuedProbeEvery) continue;
            skipped = 0;
            var queued = Stopwatch.GetTimestamp();
            ThreadPool.UnsafeQueueUserWorkItem(static state => state.Owner.Record(state.Queued), (Owner: this, Queued: queued), preferLocal: false);
        }
    }

    private void Record(long queued)
    {
        var now = Stopwatch.GetTimestamp();
        lock (_gate)
        {
            _recent.Enqueue((now, Stopwatch.GetElapsedTime(queued, now).TotalSeconds));
            Trim(now);
        }
    }

    private void Trim(long now)
    {
        while (_recent.Count > 0 && Stopwatch.GetElapsedTime(_recent.Peek().At, now) > Window) _recent.Dequeue();
    }
}
