using System.Collections.Concurrent;
using System.Diagnostics;
using HaMaster.Protos.V1;

namespace HaMaster.Server.Workers;

/// <summary>
/// The last heartbeat of every worker (leader memory only). One entry per worker, updated in
/// place: with thousands of workers beating every second, a new entry per beat (and a reference
/// to the request's tier list) lived exactly one heartbeat period, long enough to be promoted by
/// the garbage collector, and the leader collected twice as often as its followers. Tier usage is
/// copied only when it changes. Thread-safe.
/// </summary>
internal sealed class WorkerBeats
{
    private readonly ConcurrentDictionary<ulong, Beat> _beats = new();

    private sealed class Beat
    {
        public long MonotonicTicks;
        public long WallClockMs;
        public TierUsage[] Tiers = [];
    }

    /// <summary>Records a beat now. <paramref name="tiers"/> null keeps the tier usage last reported.</summary>
    public void Record(ulong workerId, IReadOnlyList<TierUsage>? tiers)
    {
        var beat = _beats.GetOrAdd(workerId, static _ => new Beat());
        var ticks = Stopwatch.GetTimestamp();
        var wallClock = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
        lock (beat)
        {
            beat.MonotonicTicks = ticks;
            beat.WallClockMs = wallClock;
            if (tiers is not null && !Same(beat.Tiers, tiers))
            {
                // Copies, so the stored usage never holds on to (or changes with) a request.
                var copy = new TierUsage[tiers.Count];
                for (var i = 0; i < copy.Length; i++) copy[i] = tiers[i].Clone();
                beat.Tiers = copy;
            }
        }
    }

    /// <summary><see cref="Stopwatch"/> timestamp of the last beat, or null if none since the last reset.</summary>
    public long? LastMonotonicTicks(ulong workerId)
    {
        if (!_beats.TryGetValue(workerId, out var beat)) return null;
        lock (beat) return beat.MonotonicTicks;
    }

    /// <summary>Wall-clock time (Unix ms) of the last beat, or 0.</summary>
    public long LastWallClockMs(ulong workerId)
    {
        if (!_beats.TryGetValue(workerId, out var beat)) return 0;
        lock (beat) return beat.WallClockMs;
    }

    /// <summary>The tier usage last reported (shared, never modified: do not change it), or null.</summary>
    public IReadOnlyList<TierUsage>? LastTiers(ulong workerId)
    {
        if (!_beats.TryGetValue(workerId, out var beat)) return null;
        lock (beat) return beat.Tiers.Length > 0 ? beat.Tiers : null;
    }

    public void Remove(ulong workerId) => _beats.TryRemove(workerId, out _);

    public void Clear() => _beats.Clear();

    private static bool Same(TierUsage[] stored, IReadOnlyList<TierUsage> reported)
    {
        if (stored.Length != reported.Count) return false;
        for (var i = 0; i < stored.Length; i++)
        {
            if (!stored[i].Equals(reported[i])) return false;
        }

        return true;
    }
}
