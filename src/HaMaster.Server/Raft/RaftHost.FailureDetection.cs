using HaMaster.Raft;
using HaMaster.Server.Peers;

namespace HaMaster.Server.Raft;

// Fast failover: a follower whose leader fell silent checks whether the leader's process is gone and, if
// so, tells the core to forget it (RawNode.ForgetLeader), so the followers elect a successor within a few
// ticks instead of a full randomized election timeout (1-2 s with the defaults).
internal sealed partial class RaftHost
{
    private int _leaderProbeInFlight;

    /// <summary>Silence, in ticks, after which a follower probes its leader: two missed heartbeats.</summary>
    private int LeaderProbeAfterTicks => Math.Max(2, 2 * _options.HeartbeatTicks);

    /// <summary>Called on the loop thread after every tick. At most one probe is in flight.</summary>
    private void MaybeProbeSilentLeader()
    {
        var leader = _node.LeaderId;
        if (_node.Role != RaftRole.Follower || leader == 0 || _node.LeaderSilenceTicks < LeaderProbeAfterTicks) return;
        var address = PeerAddressOf(leader);
        if (address is null || Interlocked.CompareExchange(ref _leaderProbeInFlight, 1, 0) != 0) return;
        var term = _node.Term;
        _ = Task.Run(() => ProbeAsync(leader, term, address));
    }

    private async Task ProbeAsync(ulong leader, ulong term, string address)
    {
        try
        {
            var refused = await LeaderProbe.IsRefusedAsync(address, 2 * _options.TickInterval, _stopping.Token).ConfigureAwait(false);
            if (!refused) return;
            Post(() =>
            {
                // Still the same leader and term: otherwise the hint is stale and the core ignores it anyway.
                if (_node.Term == term && _node.ForgetLeader(leader)) LogMessages.LeaderGone(_logger, leader, address, term);
            });
        }
        catch (OperationCanceledException) when (_stopping.IsCancellationRequested)
        {
        }
        finally
        {
            Volatile.Write(ref _leaderProbeInFlight, 0);
        }
    }
}
