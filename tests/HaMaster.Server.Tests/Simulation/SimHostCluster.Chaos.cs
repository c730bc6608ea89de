using HaMaster.Raft;

namespace HaMaster.Server.Tests.Simulation;

// The random schedule of one seed: client proposals to whoever leads, partitions, kill -9 and
// restarts, membership changes (add learner, promote, remove) and leadership transfers, then a
// quiet period with every fault healed in which the cluster must make progress again.
internal sealed partial class SimHostCluster
{
    /// <summary>Runs the whole seed; throws <see cref="SimulationFailure"/> on a broken invariant.</summary>
    public void Run()
    {
        for (var i = 0; i < Options.Steps; i++)
        {
            Chaos();
            RunStep();
        }

        // Heal everything; the cluster must commit new entries again.
        HealAll();
        CrashPointsArmed = false;
        foreach (var n in Nodes)
        {
            if (!n.Up) Restart(n);
        }

        var before = _maxRecorded;
        var progressed = RunUntil(() =>
        {
            if (Leader() is { } leader && _rng.NextDouble() < 0.5) Propose(leader, $"quiet-{Step}");
            return _maxRecorded > before + 5;
        }, Options.QuietSteps);
        if (!progressed)
        {
            var state = string.Join("; ", Nodes.Where(n => n.Up).Select(n => $"m{n.Id} {n.Host!.Observed.Role} term {n.Host.Observed.Term} leader {n.Host.Observed.LeaderId} commit {n.Host.Observed.CommitIndex} applied {n.Machine!.AppliedIndex} last {n.Log!.LastIndex} config {n.Host.AppliedConfig}@{n.Host.AppliedConfigIndex}"));
            Fail($"no progress within {Options.QuietSteps} quiet steps after healing (applied up to {_maxRecorded}): {state}");
        }
    }

    private void Chaos()
    {
        foreach (var n in Nodes)
        {
            if (!n.Up && Step >= n.DownUntil) Restart(n);
        }

        var leader = Leader();
        if (_rng.NextDouble() < 0.6)
        {
            // Clients: mostly the leader, sometimes whoever a stale client believes leads.
            var target = leader is not null && _rng.NextDouble() < 0.8 ? leader : Nodes[_rng.Next(Nodes.Count)];
            if (target.Up && target.Host!.Observed.IsLeader)
            {
                var count = 1 + _rng.Next(3);
                for (var i = 0; i < count; i++) _ = Propose(target, $"s{Step}-{i}");
            }
        }

        if (_isolated.Count == 0 && _rng.NextDouble() < 0.012)
        {
            var victim = leader is not null && _rng.NextDouble() < 0.6 ? leader.Id : (ulong)(1 + _rng.Next(Nodes.Count));
            Isolate(victim, Step + 20 + _rng.Next(150));
        }

        if (_rng.NextDouble() < 0.004)
        {
            var up = Nodes.Where(n => n.Up).ToList();
            if (up.Count > 0)
            {
                var victim = up[_rng.Next(up.Count)];
                victim.Crash();
                Crashes++;
                victim.DownUntil = Step + 3 + _rng.Next(40);
            }
        }

        leader = Leader(); // the kill above may have taken it
        if (leader is not null && _rng.NextDouble() < 0.008) ChangeMembership(leader);

        if (leader is not null && _rng.NextDouble() < 0.002)
        {
            var voters = leader.Host!.AppliedConfig.Voters.Where(v => v != leader.Id).ToList();
            if (voters.Count > 0) leader.Host.BeginLeadershipTransfer(voters[_rng.Next(voters.Count)]);
        }
    }

    private void ChangeMembership(SimHostNode leader)
    {
        var config = leader.Host!.AppliedConfig;
        var outsiders = Nodes.Select(n => n.Id).Where(id => !config.Contains(id)).ToList();
        ConfigChange change;
        if (config.Learners.Count > 0)
        {
            change = new ConfigChange(ConfigChangeKind.PromoteLearner, config.Learners[0]);
        }
        else if (config.Voters.Count <= 3 && outsiders.Count > 0)
        {
            change = new ConfigChange(ConfigChangeKind.AddLearner, outsiders[_rng.Next(outsiders.Count)]);
        }
        else
        {
            change = new ConfigChange(ConfigChangeKind.RemoveNode, config.Voters[_rng.Next(config.Voters.Count)]);
        }

        _ = leader.Host.ProposeConfigChangeAsync(change, CancellationToken.None);
    }
}
