using System.Collections.Concurrent;

namespace HaMaster.Server.Services.MetadataSync;

/// <summary>
/// When this master last compared a path with its store (ms since the epoch, its own clock). A
/// sync that finds differences records its time in the state machine (the directory's
/// <c>last_sync_ms</c>, survives failover); one that finds none journals nothing, so its time is
/// only here: after a failover, or on another master, such a path is compared once more (one
/// store read, still no journal entry). Bounded: cleared when full.
/// </summary>
/// <remarks>Safe for concurrent use.</remarks>
internal sealed class SyncTimes
{
    public const int Capacity = 100_000;

    private readonly ConcurrentDictionary<(ulong MountId, string Path), long> _times = new();

    public long Get(ulong mountId, string path) => _times.TryGetValue((mountId, path), out var time) ? time : 0;

    public void Record(ulong mountId, string path, long timeMs)
    {
        if (_times.Count >= Capacity) _times.Clear(); // a forgotten time costs one more comparison, never a wrong answer
        _times[(mountId, path)] = timeMs;
    }
}
