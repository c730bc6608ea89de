using System.Collections.Concurrent;
using System.Diagnostics;
using HaMaster.Metadata;
using HaMaster.Protos.V1;
using HaMaster.Server.Raft;
using HaMaster.Server.Services;
using Microsoft.Extensions.Logging;

namespace HaMaster.Server.Workers;

/// <summary>
/// Worker liveness on the leader. Heartbeats are NOT journaled (thousands of workers beating
/// every second would flood the log): they live in this leader's memory only. A worker silent
/// for longer than the timeout is declared lost through a journaled command. A newly elected
/// leader knows every registered worker from the replicated state and gives each one a grace
/// period (counted from its election) before it may declare anyone lost.
/// </summary>
internal sealed class WorkerLivenessTracker : IDisposable
{
    private readonly WorkerBeats _beats = new();
    private readonly MetadataStateMachine _machine;
    private readonly JournalProposer _proposer;
    private readonly RaftHost _host;
    private readonly TimeSpan _timeout;
    private readonly TimeSpan _grace;
    private readonly ILogger _logger;
    private readonly CancellationTokenSource _stopping = new();
    private long _leaderSinceTicks = long.MaxValue;

    public WorkerLivenessTracker(MetadataStateMachine machine, JournalProposer proposer, RaftHost host, TimeSpan timeout, TimeSpan grace, ILogger logger)
    {
        _machine = machine;
        _proposer = proposer;
        _host = host;
        _timeout = timeout;
        _grace = grace;
        _logger = logger;
        host.LeadershipChanged += OnLeadershipChanged;
    }

    public void Start() => _ = Task.Run(ScanLoopAsync);

    /// <summary>Records a heartbeat (leader only; called by the BlockMaster service). Null
    /// <paramref name="tiers"/> (a block commit, which also proves liveness) keeps the last usage.</summary>
    public void Heartbeat(ulong workerId, IReadOnlyList<TierUsage>? tiers = null) => _beats.Record(workerId, tiers);

    /// <summary>Wall-clock time of the last heartbeat this master saw, or 0.</summary>
    public long LastHeartbeatMs(ulong workerId) => _beats.LastWallClockMs(workerId);

    /// <summary>Latest tier usage reported by heartbeat, if any (shared: do not modify).</summary>
    public IReadOnlyList<TierUsage>? LastTiers(ulong workerId) => _beats.LastTiers(workerId);

    public int LiveCount => _machine.ListWorkers().Count(w => w.State == WorkerState.Live);

    private void OnLeadershipChanged(RaftObservedState state)
    {
        if (state.IsLeader)
        {
            _beats.Clear();
            Interlocked.Exchange(ref _leaderSinceTicks, Stopwatch.GetTimestamp());
        }
        else
        {
            Interlocked.Exchange(ref _leaderSinceTicks, long.MaxValue);
        }
    }

    private async Task ScanLoopAsync()
    {
        var period = TimeSpan.FromMilliseconds(Math.Clamp(_timeout.TotalMilliseconds / 4, 100, 1000));
        using var timer = new PeriodicTimer(period);
        try
        {
            while (await timer.WaitForNextTickAsync(_stopping.Token).ConfigureAwait(false))
            {
                try
                {
                    await ScanAsync().ConfigureAwait(false);
                }
                catch (Exception e) when (e is not OperationCanceledException)
                {
                    _logger.LogDebug(e, "worker liveness scan failed (will retry)");
                }
            }
        }
        catch (OperationCanceledException)
        {
        }
    }

    private async Task ScanAsync()
    {
        var leaderSince = Interlocked.Read(ref _leaderSinceTicks);
        if (leaderSince == long.MaxValue || !_host.Observed.IsLeader) return;
        var now = Stopwatch.GetTimestamp();
        if (Stopwatch.GetElapsedTime(leaderSince, now) < _grace) return;

        foreach (var worker in _machine.ListWorkers())
        {
            if (worker.State != WorkerState.Live) continue;
            var last = _beats.LastMonotonicTicks(worker.Id) is { } beat ? Math.Max(beat, leaderSince) : leaderSince;
            var silent = Stopwatch.GetElapsedTime(last, now);
            if (silent <= _timeout) continue;
            LogMessages.WorkerLost(_logger, worker.Id, worker.Address, (long)silent.TotalMilliseconds);
            using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(10));
            await _proposer.ProposeAsync(
                CallerIdentity.Create("hamaster-master", ["hamaster"]),
                null,
                e => e.MarkWorkerLost = new MarkWorkerLostCommand { WorkerId = worker.Id },
                cts.Token).ConfigureAwait(false);
            _beats.Remove(worker.Id);
        }
    }

    public void Dispose()
    {
        _host.LeadershipChanged -= OnLeadershipChanged;
        _stopping.Cancel();
        _stopping.Dispose();
    }
}
