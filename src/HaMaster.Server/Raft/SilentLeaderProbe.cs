using HaMaster.Raft;
using Microsoft.Extensions.Logging;

namespace HaMaster.Server.Raft;

/// <summary>
/// Fast failover: a follower whose leader fell silent checks whether the leader's process is gone and, if
/// so, tells the core to forget it (<see cref="RawNode.ForgetLeader"/>), so the followers elect a successor
/// within a few ticks instead of a full randomized election timeout (1-2 s with the defaults). At most one
/// probe is in flight. <see cref="Tick"/> runs on the loop thread; the probe runs on the thread pool and
/// reports back through <c>post</c>. <c>isRefused</c> is the probe (production:
/// <see cref="Peers.LeaderProbe.IsRefusedAsync"/>): true only on evidence that no process listens at the
/// address; <c>forgetLeader(leader, term)</c> runs on the loop thread and forgets the leader if it still
/// leads in that term (true if it did).
/// </summary>
internal sealed class SilentLeaderProbe(
    Func<string, TimeSpan, CancellationToken, Task<bool>> isRefused,
    Func<ulong, ulong, bool> forgetLeader,
    Func<ulong, string?> addressOf,
    Action<Action> post,
    int heartbeatTicks,
    TimeSpan tickInterval,
    ILogger logger,
    CancellationToken stopping)
{
    private int _inFlight;

    /// <summary>Silence, in ticks, after which a follower probes its leader: two missed heartbeats.</summary>
    public int ProbeAfterTicks => Math.Max(2, 2 * heartbeatTicks);

    /// <summary>The probe running now, if any (for tests).</summary>
    internal Task? Running { get; private set; }

    /// <summary>Loop thread, after every tick: starts a probe of a leader silent for <see cref="ProbeAfterTicks"/>.</summary>
    public void Tick(RaftRole role, ulong leader, int leaderSilenceTicks, ulong term)
    {
        if (role != RaftRole.Follower || leader == 0 || leaderSilenceTicks < ProbeAfterTicks) return;
        var address = addressOf(leader);
        if (address is null || Interlocked.CompareExchange(ref _inFlight, 1, 0) != 0) return;
        Running = Task.Run(() => ProbeAsync(leader, term, address));
    }

    private async Task ProbeAsync(ulong leader, ulong term, string address)
    {
        try
        {
            var refused = await isRefused(address, 2 * tickInterval, stopping).ConfigureAwait(false);
            if (!refused) return;
            post(() =>
            {
                // Still the same leader and term: otherwise the hint is stale and the core ignores it anyway.
                if (forgetLeader(leader, term)) LogMessages.LeaderGone(logger, leader, address, term);
            });
        }
        catch (OperationCanceledException) when (stopping.IsCancellationRequested)
        {
        }
        finally
        {
            Volatile.Write(ref _inFlight, 0);
        }
    }
}
