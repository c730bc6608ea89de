using HaMaster.Chaos.Cluster;

namespace HaMaster.Chaos.Failover;

/// <summary>
/// Polls every running, unpaused master's view of (term, leader) every 100 ms and records each
/// change of the highest-term leader: the leader changes and elections of a stretch of time.
/// </summary>
internal sealed class LeaderWatch : IAsyncDisposable
{
    private readonly ChaosCluster _cluster;
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _loop;
    private readonly object _gate = new();
    private readonly List<(DateTime At, ulong Term, ulong Leader)> _changes = [];

    public LeaderWatch(ChaosCluster cluster)
    {
        _cluster = cluster;
        _loop = Task.Run(LoopAsync);
    }

    /// <summary>The last (term, leader) seen, or (0, 0).</summary>
    public (ulong Term, ulong Leader) Current
    {
        get
        {
            lock (_gate) return _changes.Count == 0 ? (0, 0) : (_changes[^1].Term, _changes[^1].Leader);
        }
    }

    /// <summary>Number of changes recorded so far (a mark to count changes from).</summary>
    public int Mark
    {
        get
        {
            lock (_gate) return _changes.Count;
        }
    }

    /// <summary>Changes recorded since <paramref name="mark"/>.</summary>
    public IReadOnlyList<(DateTime At, ulong Term, ulong Leader)> Since(int mark)
    {
        lock (_gate) return _changes.Skip(mark).ToArray();
    }

    private async Task LoopAsync()
    {
        using var timer = new PeriodicTimer(TimeSpan.FromMilliseconds(100));
        try
        {
            while (await timer.WaitForNextTickAsync(_stop.Token))
            {
                var masters = _cluster.Running.Where(m => !m.IsPaused).ToList();
                var infos = await Task.WhenAll(masters.Select(m => _cluster.ClusterInfoAsync(m.Id)));
                var best = infos.Where(i => i is { LeaderId: not 0 }).OrderByDescending(i => i!.Term).FirstOrDefault();
                if (best is null) continue;
                lock (_gate)
                {
                    if (_changes.Count == 0 || _changes[^1].Term < best.Term || (_changes[^1].Term == best.Term && _changes[^1].Leader != best.LeaderId))
                    {
                        _changes.Add((DateTime.UtcNow, best.Term, best.LeaderId));
                    }
                }
            }
        }
        catch (OperationCanceledException)
        {
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        await _loop;
        _stop.Dispose();
    }
}
