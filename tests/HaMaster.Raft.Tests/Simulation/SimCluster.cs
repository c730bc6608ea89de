using System.Buffers.Binary;
using HaMaster.Raft;

namespace HaMaster.Raft.Tests.Simulation;

/// <summary>
/// Deterministic simulation of a Raft cluster: a fake clock (one tick per step), a fake network that drops,
/// duplicates, delays and reorders messages and honours (one-way) partitions, crashes that lose everything not
/// persisted per the Ready contract, restarts, membership changes, leadership transfers, snapshots and compaction.
/// Invariants are checked after every delivery and every step. Everything derives from the seed.
/// </summary>
internal sealed partial class SimCluster
{
    private readonly SimOptions _sim;
    private Prng _rng;
    private readonly SortedDictionary<ulong, SimNode> _nodes = [];
    private readonly RaftOptions _baseOptions;
    private readonly PriorityQueue<Message, (long At, ulong Tie)> _network = new();
    private readonly HashSet<(ulong From, ulong To)> _cut = [];
    private double _dropRate;
    private double _duplicateRate;
    private int _maxDelay;
    // Occasional very late messages (up to three election timeouts): stale votes, appends and responses.
    private double _longDelayRate;
    private double _midReadyCrashRate;
    private long _now;
    private int _step;
    private ulong _nextPayload = 1;
    private ulong _nextRead = 1;

    public SimCluster(SimOptions sim)
    {
        _sim = sim;
        _rng = new Prng(sim.Seed * 0x2545F4914F6CDD1DUL + 7);
        var voters = Enumerable.Range(1, sim.Voters).Select(i => (ulong)i).ToArray();
        var bootstrap = new ClusterConfig(voters);
        var checkQuorum = Chance(0.8);
        _baseOptions = new RaftOptions
        {
            Id = 1,
            ElectionTicks = 10,
            HeartbeatTicks = Chance(0.5) ? 1 : 3,
            PreVote = Chance(0.8),
            CheckQuorum = checkQuorum,
            LeaseReads = checkQuorum && Chance(0.3),
            MaxInflightMessages = Pick(1, 4, 256),
            MaxSizePerMessage = Chance(0.5) ? 40 : 1 << 20,
            MaxUncommittedEntriesBytes = Chance(0.3) ? 200 : 0,
            PromotionMaxLagEntries = 20,
            UnsafeSkipVoteLogCheck = sim.UnsafeSkipVoteLogCheck,
            UnsafeCommitOldTermEntries = sim.UnsafeCommitOldTermEntries,
            UnsafeReadWithoutQuorum = sim.UnsafeReadWithoutQuorum,
        };
        _dropRate = Pick(0.0, 0.02, 0.1);
        _duplicateRate = Pick(0.0, 0.05);
        _maxDelay = Pick(0, 2, 5);
        _longDelayRate = Pick(0.0, 0.01, 0.03);
        _midReadyCrashRate = Pick(0.0, 0.0003, 0.001);
        foreach (var id in voters) _nodes[id] = new SimNode(id, bootstrap);
        for (var i = 1; i <= sim.Spares; i++)
        {
            var id = (ulong)(sim.Voters + i);
            _nodes[id] = new SimNode(id, ClusterConfig.Empty); // joins later as a learner
        }
        foreach (var node in _nodes.Values)
        {
            node.SkipEvery = Pick(0, 0, 12, 20);
            Start(node);
        }
    }

    public string Describe() =>
        $"seed={_sim.Seed} voters={_sim.Voters} step={_step} tick={_now} options={_baseOptions} drop={_dropRate} dup={_duplicateRate} delay={_maxDelay} longDelay={_longDelayRate}";

    /// <summary>Runs the fault phase then the liveness phase; throws <see cref="SimViolationException"/> on any violation.</summary>
    public void Run()
    {
        try
        {
            for (_step = 0; _step < _sim.FaultSteps; _step++)
            {
                InjectFaults();
                ClientActions();
                AdvanceTime();
                CheckStepInvariants();
            }
            HealAndCheckLiveness();
        }
        catch (SimViolationException) { throw; }
        catch (Exception e)
        {
            throw new SimViolationException($"Crash in core or simulator: {e.Message}\n{Describe()}\nReplay: {_sim.ReplayCommand}", e);
        }
    }

    private void Fail(string what) =>
        throw new SimViolationException($"Invariant violated: {what}\n{Describe()}\nReplay: {_sim.ReplayCommand}");

    // ---- randomness ----
    private bool Chance(double p) => (_rng.NextUInt64() >> 11) * (1.0 / (1UL << 53)) < p;
    private T Pick<T>(params T[] items) => items[_rng.Next(items.Length)];
    private SimNode? RandomAlive()
    {
        var alive = _nodes.Values.Where(n => n.Alive).ToList();
        return alive.Count == 0 ? null : alive[_rng.Next(alive.Count)];
    }
    private SimNode? Leader() =>
        _nodes.Values.Where(n => n.Raft?.Role == RaftRole.Leader).OrderByDescending(n => n.Raft!.Term).FirstOrDefault();

    // ---- lifecycle ----
    private void Start(SimNode node)
    {
        node.Incarnation++;
        node.Raft = new RawNode(_baseOptions with { Id = node.Id, RandomSeed = _sim.Seed * 1000 + (ulong)node.Incarnation }, node.Storage);
        // The state machine is volatile: it restarts from the durable snapshot and re-applies the log.
        var snapshot = node.Storage.Snapshot;
        node.AppliedIndex = snapshot?.Index ?? 0;
        node.AppliedChain = _committed[(int)node.AppliedIndex];
        node.AppliedConfig = node.Storage.InitialConfig;
    }

    private void Crash(SimNode node)
    {
        Stats.Crashes++;
        node.Raft = null;
        _reads.RemoveAll(r => r.Node == node.Id);
    }

    private void AdvanceTime()
    {
        _now++;
        foreach (var node in _nodes.Values)
        {
            if (!node.Alive) continue;
            // Clock drift: a slow node skips every k-th tick (at most 1 tick per election timeout of 10, within the
            // configured MaxClockDriftTicks = 2 that lease reads rely on).
            if (node.SkipEvery > 0 && _now % node.SkipEvery == 0) continue;
            node.Raft!.Tick();
            ProcessReady(node);
        }
        DeliverDue();
    }

    // ---- network ----
    private void Send(Message m)
    {
        var copies = Chance(_duplicateRate) ? 2 : 1;
        for (var i = 0; i < copies; i++)
        {
            var delay = Chance(_longDelayRate) ? _rng.Next(30) : _rng.Next(_maxDelay + 1);
            _network.Enqueue(m, (_now + delay, _rng.NextUInt64()));
        }
    }

    private void DeliverDue()
    {
        for (var guard = 0; guard < 100_000 && _network.TryPeek(out _, out var at) && at.At <= _now; guard++)
        {
            var m = _network.Dequeue();
            var to = _nodes.GetValueOrDefault(m.To);
            var delivered = to is { Alive: true } && !_cut.Contains((m.From, m.To)) && !Chance(_dropRate);
            if (delivered)
            {
                if (m.Type == MessageType.TimeoutNow) Stats.TimeoutNows++;
                to!.Raft!.Step(m);
                ProcessReady(to);
                CheckLeaders();
            }
            if (!delivered && m.Type == MessageType.Append && Chance(0.2) && _nodes.TryGetValue(m.From, out var sender) && sender.Alive)
            {
                // Transports notice some failures (connection refused) and tell the leader.
                sender.Raft!.ReportUnreachable(m.To);
                ProcessReady(sender);
            }
            if (m.Type == MessageType.Snapshot && _nodes.TryGetValue(m.From, out var from) && from.Alive)
            {
                // The host streams snapshot data out of band and reports the outcome to the leader's core.
                from.Raft!.ReportSnapshot(m.To, delivered);
                ProcessReady(from);
            }
        }
    }

    // ---- ready processing (the host loop, per the Ready contract) ----
    private void ProcessReady(SimNode node)
    {
        var raft = node.Raft!;
        for (var guard = 0; guard < 64 && raft.HasReady(); guard++)
        {
            var rd = raft.GetReady();
            // A leader's appends leave before its own fsync (thesis §10.2.1).
            foreach (var m in rd.MessagesBeforePersist) Send(m);
            // Crash in the middle of the host loop: before the fsync (the whole Ready is lost, though a leader's
            // appends may already be out) or after it but before the remaining messages went out. Either way the
            // restarted node must be consistent with what it acknowledged.
            var crashPoint = Chance(_midReadyCrashRate) ? 1 + _rng.Next(2) : 0;
            if (crashPoint == 1) { Crash(node); return; }
            if (rd.Snapshot is { } snap) InstallSnapshot(node, snap);
            if (rd.EntriesToPersist.Count > 0) Persist(node, rd.EntriesToPersist);
            if (rd.HardState is { } hs)
            {
                node.Storage.SetHardState(hs);
                RecordCommit(node, hs.Commit);
            }
            if (crashPoint == 2) { Crash(node); return; }
            foreach (var m in rd.Messages) Send(m);
            foreach (var e in rd.CommittedEntries) Apply(node, e);
            foreach (var rs in rd.ReadStates) OnReadState(node, rs);
            foreach (var ctx in rd.DroppedReads) _reads.RemoveAll(r => r.Node == node.Id && r.Id == BinaryPrimitives.ReadUInt64LittleEndian(ctx.Span));
            raft.Advance(rd);
            ServeReads(node);
        }
    }

    private void InstallSnapshot(SimNode node, SnapshotMetadata snap)
    {
        Stats.SnapshotsInstalled++;
        if (snap.Index > GlobalCommit) Fail($"node {node.Id} received snapshot {snap.Index} beyond global commit {GlobalCommit}");
        node.Storage.ApplySnapshot(snap);
        node.DurableChain.Clear();
        node.DurableChain.AddRange(_committed.Take((int)snap.Index + 1));
        node.AppliedIndex = snap.Index;
        node.AppliedChain = _committed[(int)snap.Index];
        node.AppliedConfig = snap.Config;
    }

    private void Persist(SimNode node, IReadOnlyList<Entry> entries)
    {
        node.Storage.Append(entries);
        var first = (int)entries[0].Index;
        if (first > node.DurableChain.Count) Fail($"node {node.Id} persisted entry {first} after a gap (last {node.DurableChain.Count - 1})");
        node.DurableChain.RemoveRange(first, node.DurableChain.Count - first);
        foreach (var e in entries)
        {
            var chain = SimHash.Chain(node.DurableChain[^1], e);
            node.DurableChain.Add(chain);
            // Log Matching (§5.3): same index and term => identical prefixes.
            if (_chainAt.TryGetValue((e.Index, e.Term), out var known))
            {
                if (known != chain) Fail($"log matching: node {node.Id} entry {e.Index}/t{e.Term} has a different prefix than another log");
            }
            else
            {
                _chainAt[(e.Index, e.Term)] = chain;
            }
        }
    }

    private void Apply(SimNode node, in Entry e)
    {
        if (e.Index != node.AppliedIndex + 1) Fail($"node {node.Id} applied {e.Index} after {node.AppliedIndex}");
        node.AppliedChain = SimHash.Chain(node.AppliedChain, e);
        node.AppliedIndex = e.Index;
        // State Machine Safety: every node applies the same entry at an index (the one recorded as committed).
        if (e.Index > GlobalCommit || _committed[(int)e.Index] != node.AppliedChain)
            Fail($"state machine safety: node {node.Id} applied a different or uncommitted entry at {e.Index}");
        if (e.Type == EntryType.ConfigChange) node.AppliedConfig = ConfigTransition.Decode(e.Data.Span).Result;
        if (e.Type == EntryType.Normal && e.Data.Length == 8) _appliedPayloads.Add(BinaryPrimitives.ReadUInt64LittleEndian(e.Data.Span));
    }
}
