using HaMaster.Raft;

namespace HaMaster.Raft.Tests;

/// <summary>
/// A tiny deterministic harness for unit/paper tests: in-memory storage, a perfect network that can drop messages
/// by predicate, and a host loop that follows the Ready contract. No randomness besides the seeded core.
/// </summary>
internal sealed class TestCluster
{
    private readonly Func<RaftOptions, RaftOptions> _configure;
    public Dictionary<ulong, RawNode> Nodes { get; } = [];
    public Dictionary<ulong, MemoryRaftLogStorage> Storages { get; } = [];
    public Dictionary<ulong, List<Entry>> Applied { get; } = [];
    public Dictionary<ulong, List<ReadState>> Reads { get; } = [];
    public Dictionary<ulong, List<ReadOnlyMemory<byte>>> DroppedReads { get; } = [];
    public List<Message> Sent { get; } = [];
    public List<Message> Pending { get; } = [];
    public HashSet<ulong> Isolated { get; } = [];
    public Func<Message, bool>? Drop { get; set; }

    public TestCluster(int voters, Func<RaftOptions, RaftOptions>? configure = null, int learners = 0)
    {
        _configure = configure ?? (o => o);
        var config = new ClusterConfig(
            Enumerable.Range(1, voters).Select(i => (ulong)i),
            Enumerable.Range(voters + 1, learners).Select(i => (ulong)i));
        foreach (var id in config.Members) Add(id, config);
    }

    public RawNode this[ulong id] => Nodes[id];

    public RaftOptions OptionsFor(ulong id) => _configure(new RaftOptions { Id = id, PreVote = false, CheckQuorum = false, RandomSeed = 42 });

    public void Add(ulong id, ClusterConfig bootstrap)
    {
        Storages[id] = new MemoryRaftLogStorage(bootstrap);
        Applied[id] = [];
        Reads[id] = [];
        DroppedReads[id] = [];
        Nodes[id] = new RawNode(OptionsFor(id), Storages[id]);
    }

    /// <summary>Restarts a node from its durable storage (anything not yet handed out in a Ready is lost).</summary>
    public void Restart(ulong id)
    {
        Applied[id].Clear();
        Nodes[id] = new RawNode(OptionsFor(id), Storages[id]);
        Applied[id].AddRange(Enumerable.Empty<Entry>());
    }

    /// <summary>Processes every Ready of one node per the contract; messages go to <see cref="Pending"/>.</summary>
    public void Flush(ulong id)
    {
        var node = Nodes[id];
        var storage = Storages[id];
        while (node.HasReady())
        {
            var rd = node.GetReady();
            Sent.AddRange(rd.MessagesBeforePersist);
            Pending.AddRange(rd.MessagesBeforePersist);
            if (rd.Snapshot is { } s) storage.ApplySnapshot(s);
            storage.Append(rd.EntriesToPersist);
            if (rd.HardState is { } hs) storage.SetHardState(hs);
            Sent.AddRange(rd.Messages);
            Pending.AddRange(rd.Messages);
            Applied[id].AddRange(rd.CommittedEntries);
            Reads[id].AddRange(rd.ReadStates);
            DroppedReads[id].AddRange(rd.DroppedReads);
            node.Advance(rd);
        }
    }

    public void FlushAll()
    {
        foreach (var id in Nodes.Keys) Flush(id);
    }

    /// <summary>Delivers messages until none are left (bounded).</summary>
    public void Stabilize(int maxRounds = 200)
    {
        for (var round = 0; round < maxRounds; round++)
        {
            FlushAll();
            if (Pending.Count == 0) return;
            var batch = Pending.ToList();
            Pending.Clear();
            foreach (var m in batch) Deliver(m);
        }
        throw new InvalidOperationException("Cluster did not stabilize.");
    }

    public void Deliver(Message m)
    {
        if (!Nodes.TryGetValue(m.To, out var to)) return;
        if (Isolated.Contains(m.To) || Isolated.Contains(m.From)) return;
        if (Drop?.Invoke(m) == true) return;
        to.Step(m);
    }

    public void Elect(ulong id)
    {
        Nodes[id].Campaign();
        Stabilize();
        Assert.Equal(RaftRole.Leader, Nodes[id].Role);
    }

    public void TickAll(int ticks = 1)
    {
        for (var i = 0; i < ticks; i++)
        {
            foreach (var n in Nodes.Values) n.Tick();
            Stabilize();
        }
    }

    public List<byte[]> AppliedData(ulong id) =>
        Applied[id].Where(e => e.Type == EntryType.Normal && !e.Data.IsEmpty).Select(e => e.Data.ToArray()).ToList();

    public static byte[] Data(string s) => System.Text.Encoding.UTF8.GetBytes(s);
}
