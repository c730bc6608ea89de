using System.Buffers.Binary;
using HaMaster.Raft;

namespace HaMaster.Raft.Tests.Simulation;

internal sealed partial class SimCluster
{
    private void ClientActions()
    {
        if (Chance(0.4) && RandomAlive() is { } proposer)
        {
            // Clients mostly find the leader; sometimes they hit a follower and get a NotLeader value.
            var target = Chance(0.8) && Leader() is { } l ? l : proposer;
            var n = Chance(0.2) ? 4 : 1;
            for (var i = 0; i < n; i++) Propose(target);
            ProcessReady(target);
        }
        if (Chance(0.15) && RandomAlive() is { } reader && _reads.Count < 200)
        {
            var id = _nextRead++;
            var ctx = new byte[8];
            BinaryPrimitives.WriteUInt64LittleEndian(ctx, id);
            _reads.Add(new PendingRead { Id = id, Node = reader.Id, MinIndex = GlobalCommit });
            reader.Raft!.ReadIndex(ctx);
            ProcessReady(reader);
        }
    }

    private ProposeResult Propose(SimNode node)
    {
        var data = new byte[8];
        BinaryPrimitives.WriteUInt64LittleEndian(data, _nextPayload++);
        var result = node.Raft!.Propose(data);
        if (result.Status is not (ProposeStatus.Accepted or ProposeStatus.NotLeader or ProposeStatus.TransferInProgress or ProposeStatus.UncommittedLimit))
            Fail($"unexpected propose result {result}");
        return result;
    }

    private void InjectFaults()
    {
        if (Chance(0.006)) Partition();
        if (_cut.Count > 0 && Chance(0.02)) _cut.Clear();
        if (Chance(0.003) && _nodes.Values.Count(n => n.Alive) > 1 && RandomAlive() is { } victim) Crash(victim);
        foreach (var node in _nodes.Values)
        {
            if (!node.Alive && Chance(0.03)) Start(node);
        }
        if (Chance(0.006)) ChangeMembership();
        if (Chance(0.004) && Leader() is { } leader)
        {
            var voters = leader.Raft!.Configuration.Voters;
            leader.Raft.TransferLeadership(voters[_rng.Next(voters.Count)]);
            ProcessReady(leader);
        }
        if (Chance(0.01) && RandomAlive() is { } snapper) TakeSnapshot(snapper);
        if (Chance(0.02) && RandomAlive() is { } follower) HintLeaderGone(follower);
    }

    /// <summary>
    /// A failure detector's hint (<see cref="RawNode.ForgetLeader"/>): usually right (the followed leader is down),
    /// sometimes wrong (it is alive, e.g. a refused connection during a restart). Either way safety must hold.
    /// </summary>
    private void HintLeaderGone(SimNode follower)
    {
        var lead = follower.Raft!.LeaderId;
        if (lead == 0) return;
        var leaderAlive = _nodes.TryGetValue(lead, out var l) && l.Alive;
        if (leaderAlive && !Chance(0.2)) return;
        if (follower.Raft.ForgetLeader(lead)) Stats.LeaderHints++;
        ProcessReady(follower);
    }

    private void Partition()
    {
        var ids = _nodes.Keys.ToList();
        switch (_rng.Next(4))
        {
            case 0: // isolate one node both ways
            {
                var x = ids[_rng.Next(ids.Count)];
                foreach (var y in ids) { _cut.Add((x, y)); _cut.Add((y, x)); }
                break;
            }
            case 1: // isolate the leader
            {
                if (Leader() is not { } l) break;
                foreach (var y in ids) { _cut.Add((l.Id, y)); _cut.Add((y, l.Id)); }
                break;
            }
            case 2: // one-way links
            {
                for (var k = 0; k < 2; k++) _cut.Add((ids[_rng.Next(ids.Count)], ids[_rng.Next(ids.Count)]));
                break;
            }
            default: // split into two groups
            {
                var side = ids.ToDictionary(i => i, _ => Chance(0.5));
                foreach (var a in ids) foreach (var b in ids) if (side[a] != side[b]) _cut.Add((a, b));
                break;
            }
        }
    }

    private void ChangeMembership()
    {
        if (Leader() is not { } leader) return;
        var raft = leader.Raft!;
        var config = raft.Configuration;
        ConfigChange change;
        var newcomers = _nodes.Keys.Where(id => !config.Contains(id) && !_everMember.Contains(id)).ToList();
        var roll = _rng.Next(4);
        if (roll == 0 && newcomers.Count > 0) change = new ConfigChange(ConfigChangeKind.AddLearner, newcomers[0]);
        else if (roll == 1 && config.Learners.Count > 0) change = new ConfigChange(ConfigChangeKind.PromoteLearner, config.Learners[0]);
        else if (roll == 2 && config.Voters.Count > 2) change = new ConfigChange(ConfigChangeKind.RemoveNode, config.Voters[_rng.Next(config.Voters.Count)]);
        else if (roll == 3 && newcomers.Count > 0) change = new ConfigChange(ConfigChangeKind.AddVoter, newcomers[0]);
        else return;
        var result = raft.ProposeConfigChange(change);
        if (result.IsAccepted)
        {
            Stats.ConfigChanges++;
            _everMember.Add(change.NodeId);
            ProcessReady(leader);
        }
    }

    // Nodes once added are never re-added after removal (a removed server would rejoin with a stale log/config).
    private readonly HashSet<ulong> _everMember = [];

    private void TakeSnapshot(SimNode node)
    {
        var snapIndex = node.Storage.Snapshot?.Index ?? 0;
        if (node.AppliedIndex < snapIndex + 10) return;
        // The host snapshots its state machine at the applied index, then compacts the log behind it (keeping a few entries).
        node.Storage.CreateSnapshot(node.AppliedIndex, node.AppliedConfig);
        var keep = (ulong)_rng.Next(4);
        if (node.AppliedIndex > keep) node.Storage.Compact(node.AppliedIndex - keep);
    }

    private void HealAndCheckLiveness()
    {
        _cut.Clear();
        _dropRate = 0;
        _duplicateRate = 0;
        _longDelayRate = 0;
        _midReadyCrashRate = 0;
        _maxDelay = Math.Min(_maxDelay, 1);
        foreach (var node in _nodes.Values) if (!node.Alive) Start(node);
        ulong marker = 0;
        var markerTick = 0L;
        for (var t = 0; t < _sim.LivenessTicks; t++, _step++)
        {
            AdvanceTime();
            CheckStepInvariants();
            var leader = Leader();
            if (leader is null) continue;
            if (marker == 0 || (!_appliedPayloads.Contains(marker) && _now - markerTick > 60))
            {
                marker = _nextPayload;
                markerTick = _now;
                if (Propose(leader).IsAccepted) ProcessReady(leader);
                else marker = 0;
                continue;
            }
            if (!_appliedPayloads.Contains(marker)) continue;
            // Every member of the leader's configuration must have applied everything committed.
            var members = leader.Raft!.Configuration.Members.ToList();
            if (members.All(id => _nodes[id].AppliedIndex >= GlobalCommit) && leader.Raft.CommitIndex == GlobalCommit) return;
        }
        var state = string.Join("; ", _nodes.Values.Select(n => n.Raft is { } r
            ? $"{n.Id}:{r.Role} t{r.Term} lead{r.LeaderId} commit{r.CommitIndex} applied{n.AppliedIndex} cfg[{r.Configuration}]"
            : $"{n.Id}:down"));
        Fail($"liveness: no leader committed a fresh proposal on every member within {_sim.LivenessTicks} ticks after healing (global commit {GlobalCommit}). {state}");
    }

    public SimStats Stats { get; } = new();

    public (ulong Commit, int ReadsServed, int Terms) Summary => (GlobalCommit, _readsServed, _leaderOfTerm.Count);
}
