using System.Diagnostics;
using HaMaster.Server.Observability;
using Microsoft.Extensions.Logging;

namespace HaMaster.Server.Raft;

/// <summary>
/// Times one busy iteration of the Raft loop and its phases (posted work, fsync, apply, snapshot).
/// Every iteration is recorded in a histogram; one that keeps the loop busy longer than
/// <see cref="DefaultSlowThreshold"/> is logged with its breakdown and the garbage collector's pauses
/// during it, so a tail-latency stall can be attributed without a profiler. Loop thread only.
/// </summary>
internal sealed class LoopIterationTimer(TimeSpan slowThreshold)
{
    public static readonly TimeSpan DefaultSlowThreshold = TimeSpan.FromMilliseconds(100);
    private long _started;
    private TimeSpan _gcPauseAtStart;
    private int _posted;
    private long _inboxTicks;
    private TimeSpan _fsync;
    private int _persisted;
    private TimeSpan _apply;
    private int _applied;
    private TimeSpan _snapshot;

    public void Begin()
    {
        _started = Stopwatch.GetTimestamp();
        _gcPauseAtStart = GC.GetTotalPauseDuration();
        _posted = 0;
        _inboxTicks = 0;
        _fsync = _apply = _snapshot = TimeSpan.Zero;
        _persisted = _applied = 0;
    }

    public void Inbox(int posted)
    {
        _posted = posted;
        _inboxTicks = Stopwatch.GetTimestamp() - _started;
    }

    public void Fsync(TimeSpan elapsed, int entries)
    {
        _fsync += elapsed;
        _persisted += entries;
    }

    public void Applied(TimeSpan elapsed, int entries)
    {
        _apply += elapsed;
        _applied += entries;
    }

    public void Snapshot(TimeSpan elapsed) => _snapshot += elapsed;

    public void End(MasterMetrics? metrics, ILogger logger)
    {
        if (_posted == 0 && _persisted == 0 && _applied == 0) return; // an idle tick: nothing worth recording
        var total = Stopwatch.GetElapsedTime(_started);
        metrics?.LoopIteration(total);
        if (total < slowThreshold) return;
        var gc = GC.GetTotalPauseDuration() - _gcPauseAtStart;
        LogMessages.SlowLoopIteration(
            logger,
            (long)total.TotalMilliseconds,
            _posted,
            (long)Stopwatch.GetElapsedTime(0, _inboxTicks).TotalMilliseconds,
            _persisted,
            (long)_fsync.TotalMilliseconds,
            _applied,
            (long)_apply.TotalMilliseconds,
            (long)_snapshot.TotalMilliseconds,
            (long)gc.TotalMilliseconds);
    }
}
