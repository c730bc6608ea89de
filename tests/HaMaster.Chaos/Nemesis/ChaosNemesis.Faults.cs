using System.Diagnostics;
using HaMaster.Chaos.Cluster;
using HaMaster.Chaos.Core.Faults;
using HaMaster.Protos.V1;

namespace HaMaster.Chaos.Nemesis;

// What each fault does and how it is undone. Heals are registered per fault sequence number.
public sealed partial class ChaosNemesis
{
    private async Task<string> InjectCoreAsync(ScheduledFault<FaultKind> fault, Random random)
    {
        var leader = await _cluster.FindLeaderAsync();
        var running = _cluster.Running.Where(m => !m.IsPaused).ToList();
        MasterProcess Any() => running[random.Next(running.Count)];
        MasterProcess LeaderOrAny() => leader ?? Any();
        string Role(MasterProcess m) => m == leader ? "leader" : "follower";

        switch (fault.Kind)
        {
            case FaultKind.KillLeader:
            case FaultKind.KillRandom:
            {
                var victim = fault.Kind == FaultKind.KillLeader ? LeaderOrAny() : Any();
                var role = Role(victim);
                await victim.KillAsync();
                _pendingAsyncHeals[fault.Sequence] = () => _cluster.StartAsync(victim);
                return $"kill -9 master {victim.Id} ({role})";
            }

            case FaultKind.PauseLeader:
            case FaultKind.PauseRandom:
            {
                var victim = fault.Kind == FaultKind.PauseLeader ? LeaderOrAny() : Any();
                var role = Role(victim);
                await victim.PauseAsync();
                var paused = Stopwatch.StartNew();
                _pendingAsyncHeals[fault.Sequence] = async () =>
                {
                    // A pause shorter than the election timeout proves nothing: hold it at least MinPause.
                    var left = _options.MinPause - paused.Elapsed;
                    if (left > TimeSpan.Zero)
                    {
                        await Task.Delay(left);
                    }

                    victim.Resume();
                };
                return $"SIGSTOP master {victim.Id} ({role})";
            }

            case FaultKind.IsolateLeader:
            {
                var victim = LeaderOrAny();
                _cluster.Network.Isolate(ChaosCluster.Index(victim));
                _cluster.Ingress(victim).SetBlackhole(true);
                _pendingHeals[fault.Sequence] = HealNetwork;
                return $"isolate master {victim.Id} ({Role(victim)})";
            }

            case FaultKind.Split:
            {
                var order = _cluster.Masters.OrderBy(_ => random.Next()).ToList();
                var majority = order.Take((order.Count / 2) + 1).ToList();
                var minority = order.Skip(majority.Count).ToList();
                _cluster.Network.Partition(majority.Select(m => ChaosCluster.Index(m)).ToArray(), minority.Select(m => ChaosCluster.Index(m)).ToArray());
                foreach (var m in minority)
                {
                    _cluster.Ingress(m).SetBlackhole(true);
                }

                _pendingHeals[fault.Sequence] = HealNetwork;
                var leaderSide = leader is null ? "no leader" : minority.Contains(leader) ? "leader in minority" : "leader in majority";
                return $"partition {{{string.Join(",", majority.Select(m => m.Id))}}} | {{{string.Join(",", minority.Select(m => m.Id))}}} ({leaderSide})";
            }

            case FaultKind.OneWay:
            {
                var from = random.Next(2) == 0 ? LeaderOrAny() : Any();
                var others = _cluster.Masters.Where(m => m != from).ToList();
                var to = others[random.Next(others.Count)];
                _cluster.Network.OneWay(ChaosCluster.Index(from), ChaosCluster.Index(to));
                _pendingHeals[fault.Sequence] = HealNetwork;
                return $"blackhole master {from.Id} ({Role(from)}) -> master {to.Id}, one way";
            }

            case FaultKind.SlowLinks:
            {
                var victim = Any();
                var latency = TimeSpan.FromMilliseconds(50 + random.Next(250));
                var jitter = TimeSpan.FromMilliseconds(50);
                _cluster.Network.Slow(ChaosCluster.Index(victim), latency, jitter);
                _cluster.Ingress(victim).SetDelay(latency, jitter);
                _pendingHeals[fault.Sequence] = HealNetwork;
                return $"slow links of master {victim.Id} ({Role(victim)}): {latency.TotalMilliseconds:0} ms +- {jitter.TotalMilliseconds:0} ms";
            }

            case FaultKind.TransferLeadership:
            {
                var voters = await _cluster.VotersAsync();
                var targets = voters.Where(id => id != leader?.Id && _cluster.Master(id).IsRunning).ToList();
                if (targets.Count == 0)
                {
                    Refused++;
                    return "no follower to transfer leadership to";
                }

                var target = targets[random.Next(targets.Count)];
                try
                {
                    using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(20));
                    var now = await _admin.TransferLeadershipAsync(target, timeout.Token);
                    return $"transfer leadership {leader?.Id.ToString() ?? "?"} -> {target}: leader now {now}";
                }
                catch (Exception e) when (e is Client.HaMasterException or OperationCanceledException)
                {
                    Refused++;
                    return $"transfer leadership {leader?.Id.ToString() ?? "?"} -> {target} refused: {e.Message}";
                }
            }

            case FaultKind.RemoveAndReAdd:
                return await RemoveAsync(fault, random, leader);

            case FaultKind.SnapshotCatchUp:
            {
                var followers = running.Where(m => m != leader).ToList();
                if (leader is null || followers.Count == 0)
                {
                    Refused++;
                    return "no leader or follower to keep down";
                }

                var victim = followers[random.Next(followers.Count)];
                await victim.KillAsync();
                _pendingAsyncHeals[fault.Sequence] = () => CatchUpBySnapshotAsync(victim);
                return $"kill -9 master {victim.Id} (follower), snapshot the leader while it is down";
            }

            default:
                throw new ArgumentOutOfRangeException(nameof(fault), fault.Kind, "unknown fault");
        }
    }

    private void HealNetwork()
    {
        _cluster.Network.Heal();
        foreach (var master in _cluster.Masters)
        {
            _cluster.Ingress(master).Pass();
        }
    }

    private async Task CatchUpBySnapshotAsync(MasterProcess victim)
    {
        try
        {
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(20));
            var snapshot = await _admin.TakeSnapshotAsync(timeout.Token);
            Say($"  leader snapshot at index {snapshot.SnapshotIndex} while master {victim.Id} is down");
        }
        catch (Exception e) when (e is Client.HaMasterException or OperationCanceledException)
        {
            Say($"  snapshot refused: {e.Message}");
        }

        await _cluster.StartAsync(victim);
        try
        {
            await victim.WaitForOutputAsync(l => l.Contains("installed snapshot", StringComparison.Ordinal), TimeSpan.FromSeconds(15));
            SnapshotInstallsSeen++;
        }
        catch (Exception e) when (e is TimeoutException or InvalidOperationException)
        {
            Say($"  master {victim.Id} caught up without logging a snapshot install");
        }
    }

    private async Task<string> RemoveAsync(ScheduledFault<FaultKind> fault, Random random, MasterProcess? leader)
    {
        var voters = await _cluster.VotersAsync();
        var candidates = voters.Select(_cluster.Master).Where(m => m != leader && m.IsRunning && !m.IsPaused).ToList();
        if (leader is null || candidates.Count == 0 || voters.Count < _cluster.Masters.Count)
        {
            Refused++;
            return "no full membership with a leader: nothing removed";
        }

        var victim = candidates[random.Next(candidates.Count)];
        try
        {
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(20));
            await _admin.RemoveMasterAsync(victim.Id, timeout.Token);
        }
        catch (Exception e) when (e is Client.HaMasterException or OperationCanceledException)
        {
            // The outcome may be unknown: whatever happened, the heal adds the master back if it is gone.
            Say($"  remove of master {victim.Id} ended with {e.Message}");
        }

        await victim.KillAsync();
        _pendingAsyncHeals[fault.Sequence] = () => ReAddAsync(victim);
        return $"remove master {victim.Id} (follower) from the membership and stop it";
    }

    private async Task ReAddAsync(MasterProcess victim)
    {
        var voters = await _cluster.VotersAsync();
        if (voters.Contains(victim.Id))
        {
            // The removal never took effect: just restart it on its data.
            await _cluster.StartAsync(victim);
            return;
        }

        // A removed master's data is obsolete: it joins afresh, announced at its ingress proxy.
        await _cluster.RejoinAsync(victim);
        var request = new AddMasterRequest
        {
            Id = victim.Id,
            ClientAddress = victim.ClientAddress,
            PeerAddress = $"127.0.0.1:{_cluster.Ingress(victim).Endpoint.Port}",
            WebAddress = victim.WebAddress,
        };
        var clock = Stopwatch.StartNew();
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
                await _admin.AddMasterAsync(request, timeout.Token);
                Say($"  master {victim.Id} added back (attempt {attempt})");
                return;
            }
            catch (Exception e) when ((e is Client.HaMasterException or OperationCanceledException) && attempt < 10 && clock.Elapsed < TimeSpan.FromSeconds(60))
            {
                if ((await _cluster.VotersAsync()).Contains(victim.Id))
                {
                    return;
                }

                Say($"  add back master {victim.Id}: {e.Message}; retrying");
                await Task.Delay(TimeSpan.FromMilliseconds(500));
            }
        }
    }
}
