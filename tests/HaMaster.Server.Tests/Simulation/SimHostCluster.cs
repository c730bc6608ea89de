using System.Text;
using HaMaster.Journal;
using HaMaster.Raft;
using HaMaster.Server.Peers;
using HaMaster.Server.Raft;

namespace HaMaster.Server.Tests.Simulation;

/// <summary>
/// Deterministic simulation of whole masters (issue 21): the real Raft host, journal, snapshot store,
/// snapshot streaming and cluster state file of every master, on simulated disks (unsynced writes
/// lost on a crash) with a simulated network (delay, loss, duplication, reordering, partitions) and
/// clock (one tick per <see cref="SimOptions.StepsPerTick"/> steps). Masters crash at named crash
/// points (every step of receiving, publishing and installing a snapshot, of membership changes, of
/// persisting and applying) and at random moments, and restart from their data directories.
/// Invariants are checked after every step; a violation throws <see cref="SimulationFailure"/>
/// with the command that replays the seed. Single-threaded: one seed replays exactly.
/// </summary>
internal sealed partial class SimHostCluster : IDisposable
{
    /// <summary>First byte of the simulation's client commands (unlike the host's own entry tags).</summary>
    public const byte CommandTag = 0x7E;

    public const string ReceiveChunk = "receive.chunk-written";
    public const string ReceiveStaged = "receive.staged";

    public static readonly string[] AllCrashPoints = [.. CrashPoints.Host, ReceiveChunk, ReceiveStaged];

    private readonly Random _rng;
    private readonly string _root;
    private readonly List<InFlight> _network = [];
    private long _sequence;
    private readonly HashSet<ulong> _isolated = [];
    private long _healAt;

    public SimHostCluster(SimOptions options)
    {
        Options = options;
        _rng = new Random(options.Seed);
        var tmp = System.IO.Directory.Exists("/dev/shm") ? "/dev/shm" : Path.GetTempPath();
        _root = Path.Combine(tmp, $"hamaster-hostsim-{Environment.ProcessId}-{options.Seed}-{Guid.NewGuid():N}");
        System.IO.Directory.CreateDirectory(_root);
        for (var i = 1; i <= options.Nodes; i++) Nodes.Add(new SimHostNode(this, (ulong)i, Path.Combine(_root, $"m{i}")));
        CrashPointsArmed = false;
        foreach (var n in Nodes) n.Start();
        CrashPointsArmed = true;
    }

    public SimOptions Options { get; }

    public List<SimHostNode> Nodes { get; } = [];

    public long Step { get; private set; }

    /// <summary>Times each crash point was reached, and times a crash was injected there.</summary>
    public Dictionary<string, long> Reached { get; } = [];

    public Dictionary<string, long> CrashedAt { get; } = [];

    public long Crashes { get; private set; }

    public long Restarts { get; private set; }

    public long SnapshotsSent { get; private set; }

    public long ProposalsMade { get; private set; }

    public SimHostNode Node(ulong id) => Nodes[(int)id - 1];

    /// <summary>Crash points may fire only while this is set (scripted tests turn them off).</summary>
    public bool CrashPointsArmed { get; set; } = true;

    /// <summary>A crash point to fire exactly once, on the given master (scripted tests).</summary>
    public (ulong Node, string Point)? CrashOnce { get; set; }

    internal void AtCrashPoint(SimHostNode node, string point)
    {
        Reached[point] = Reached.GetValueOrDefault(point) + 1;
        if (CrashOnce is { } once)
        {
            if (once.Node == node.Id && once.Point == point)
            {
                CrashOnce = null;
                Crash(point);
            }

            return;
        }

        if (!CrashPointsArmed) return;
        var chance = Options.CrashChance.TryGetValue(point, out var c) ? c : Options.DefaultCrashChance;
        if (_rng.NextDouble() < chance) Crash(point);

        void Crash(string at)
        {
            CrashedAt[at] = CrashedAt.GetValueOrDefault(at) + 1;
            throw new SimulatedCrashException($"simulated crash of master {node.Id} at {at}");
        }
    }

    /// <summary>Whether an applied batch reaches the state machine's disk before the next crash.</summary>
    internal bool PersistApplyNow() => _rng.NextDouble() < 0.5;

    private readonly record struct InFlight(long DeliverAt, long Sequence, ulong From, ulong To, Message Message);

    internal void Enqueue(ulong from, IReadOnlyList<Message> messages)
    {
        foreach (var m in messages)
        {
            // Lost (a snapshot is not lost silently: its stream fails and the sender reports it, below).
            if (m.Type != MessageType.Snapshot && _rng.NextDouble() < Options.MessageLoss) continue;
            var copies = _rng.NextDouble() < Options.MessageLoss / 2 ? 2 : 1;
            for (var c = 0; c < copies; c++)
            {
                // Through the wire format, so masters share no objects (and the conversion is exercised).
                var wire = RaftWire.FromWire(RaftWire.ToWire(m));
                _network.Add(new InFlight(Step + 1 + _rng.Next(3), _sequence++, from, m.To, wire));
            }
        }
    }

    /// <summary>Cuts a master off from every other (both directions) until <paramref name="healAt"/>.</summary>
    public void Isolate(ulong id, long healAt = long.MaxValue)
    {
        _isolated.Add(id);
        _healAt = healAt;
    }

    public void HealAll() => _isolated.Clear();

    private bool Connected(ulong a, ulong b) => !_isolated.Contains(a) && !_isolated.Contains(b);

    /// <summary>One step: deliver due messages, then one loop iteration of every running master (with a tick when due).</summary>
    public void RunStep()
    {
        Step++;
        if (_isolated.Count > 0 && Step >= _healAt) HealAll();
        DeliverDue();
        foreach (var n in Nodes)
        {
            if (!n.Up) continue;
            var tick = (Step + (long)n.Id) % Options.StepsPerTick == 0;
            Guard(n, () => n.Host!.RunIteration(tick));
        }

        CheckInvariants();
    }

    /// <summary>Runs <paramref name="action"/> on a master; a simulated crash takes the master down.</summary>
    public void Guard(SimHostNode n, Action action)
    {
        try
        {
            action();
        }
        catch (SimulatedCrashException)
        {
            n.Crash();
            Crashes++;
            n.DownUntil = Step + 3 + _rng.Next(30);
        }
    }

    public void Restart(SimHostNode n)
    {
        Restarts++;
        Guard(n, n.Start);
        if (n.Up) _checkLogOf.Add(n.Id);
    }

    private void DeliverDue()
    {
        if (_network.Count == 0) return;
        var due = _network.Where(f => f.DeliverAt <= Step).OrderBy(f => f.DeliverAt).ThenBy(f => f.Sequence).ToList();
        _network.RemoveAll(f => f.DeliverAt <= Step);
        foreach (var f in due)
        {
            var to = f.To >= 1 && f.To <= (ulong)Nodes.Count ? Node(f.To) : null;
            if (to is null || !to.Up || !Connected(f.From, f.To))
            {
                // SnapshotSender reports a stream that could not reach the follower, so the leader retries.
                if (f.Message.Type == MessageType.Snapshot && Node(f.From) is { Up: true } sender) sender.Host!.ReportSnapshot(f.To, false);
                continue;
            }

            if (f.Message.Type == MessageType.Snapshot)
            {
                DeliverSnapshot(Node(f.From), to, f.Message);
            }
            else
            {
                to.Host!.Deliver([f.Message]);
            }
        }
    }

    /// <summary>
    /// What SnapshotSender and RaftPeerService do over the peer port: stream the leader's snapshot in
    /// chunks into the follower's store (resuming a partial receive), stage it, then hand the message
    /// to the follower's core, and tell the leader how it went.
    /// </summary>
    private void DeliverSnapshot(SimHostNode from, SimHostNode to, Message message)
    {
        var meta = message.Snapshot!;
        var manifest = from.Up ? from.Snapshots!.List().FirstOrDefault(m => m.Index == meta.Index && m.Term == meta.Term) : null;
        if (manifest is null)
        {
            if (from.Up) from.Host!.ReportSnapshot(to.Id, false);
            return;
        }

        SnapshotsSent++;
        var delivered = false;
        Guard(to, () =>
        {
            try
            {
            if (!to.Snapshots!.Holds(manifest.Index, manifest.Term))
            {
                using var reader = from.Snapshots!.OpenForStreaming(manifest, chunkBytes: 16);
                using var receiver = to.Snapshots.BeginReceive(SnapshotManifest.FromBytes(manifest.ToBytes()));
                if (receiver.ResumeFile is { } file) reader.Seek(file, receiver.ResumeOffset);
                while (!receiver.IsComplete && reader.ReadNextAsync().AsTask().GetAwaiter().GetResult() is { } chunk)
                {
                    receiver.WriteChunk(chunk);
                    AtCrashPoint(to, ReceiveChunk);
                }

                receiver.Commit();
                AtCrashPoint(to, ReceiveStaged);
            }

            to.Host!.Deliver([message]);
            delivered = true;
            }
            catch (SnapshotIntegrityException)
            {
                // A partial receive that a crash tore (unsynced bytes lost) fails verification and is
                // discarded: the leader sends it again (RaftPeerService answers DATA_LOSS).
            }
        });
        if (from.Up) from.Host!.ReportSnapshot(to.Id, delivered);
    }

    public Task<ulong?> Propose(SimHostNode n, string text)
    {
        ProposalsMade++;
        var data = new byte[1 + Encoding.UTF8.GetByteCount(text)];
        data[0] = CommandTag;
        Encoding.UTF8.GetBytes(text, data.AsSpan(1));
        return n.Host!.ProposeAsync(data, CancellationToken.None);
    }

    /// <summary>The master that leads in the highest term among the running ones, or null.</summary>
    public SimHostNode? Leader() =>
        Nodes.Where(n => n.Up && n.Host!.Observed.IsLeader).OrderByDescending(n => n.Host!.Observed.Term).FirstOrDefault();

    /// <summary>Runs steps until <paramref name="done"/> holds; false if it did not within <paramref name="maxSteps"/>.</summary>
    public bool RunUntil(Func<bool> done, int maxSteps)
    {
        for (var i = 0; i < maxSteps; i++)
        {
            if (done()) return true;
            RunStep();
        }

        return done();
    }

    public void Dispose()
    {
        foreach (var n in Nodes)
        {
            if (n.Up) n.Crash();
        }

        try
        {
            System.IO.Directory.Delete(_root, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}

/// <summary>An invariant broke; the message says which, where, and how to replay the seed.</summary>
internal sealed class SimulationFailure(string message) : Exception(message);
