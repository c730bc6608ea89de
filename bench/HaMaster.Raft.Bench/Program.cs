using System.Diagnostics;
using HaMaster.Raft;

// Raft core throughput: a 3-node cluster in one thread with zero-latency in-memory storage and network, so every
// CPU cycle measured is the consensus core plus a minimal host loop. Prints committed entries per CPU second and
// bytes allocated per committed entry for 1, 64 and 1024 outstanding 200-byte proposals.
var entries = args.Length > 0 && int.TryParse(args[0], out var n) ? n : 1_000_000;
Console.WriteLine($"HaMaster.Raft benchmark: 3 voters, 200-byte proposals, in-memory storage, {Environment.ProcessorCount} CPUs");
Console.WriteLine($"{"outstanding",12} {"entries",10} {"cpu s",8} {"entries/cpu-s",14} {"alloc B/entry",14} {"msgs/entry",11}");
foreach (var outstanding in new[] { 1, 64, 1024 })
{
    // Warm up (JIT), then measure.
    BenchCluster.Run(outstanding, Math.Min(20_000, entries / 10));
    var r = BenchCluster.Run(outstanding, outstanding == 1 ? entries / 10 : entries);
    Console.WriteLine($"{outstanding,12} {r.Entries,10} {r.Cpu.TotalSeconds,8:F2} {r.Entries / r.Cpu.TotalSeconds,14:N0} {(double)r.AllocatedBytes / r.Entries,14:F1} {(double)r.Messages / r.Entries,11:F3}");
}

internal sealed class BenchCluster
{
    private readonly RawNode[] _nodes = new RawNode[3];
    private readonly MemoryRaftLogStorage[] _storages = new MemoryRaftLogStorage[3];
    private readonly List<Message> _inbox = [];
    private readonly List<Message> _delivering = [];
    private long _leaderApplied;
    private long _messages;

    private BenchCluster()
    {
        var config = new ClusterConfig([1UL, 2, 3]);
        for (var i = 0; i < 3; i++)
        {
            _storages[i] = new MemoryRaftLogStorage(config);
            _nodes[i] = new RawNode(new RaftOptions { Id = (ulong)i + 1, RandomSeed = 1, MaxInflightMessages = 256 }, _storages[i]);
        }
    }

    public readonly record struct Result(long Entries, TimeSpan Cpu, long AllocatedBytes, long Messages);

    public static Result Run(int outstanding, int entries)
    {
        var c = new BenchCluster();
        c._nodes[0].Campaign();
        c.Pump();
        if (c._nodes[0].Role != RaftRole.Leader) throw new InvalidOperationException("no leader");
        var payload = new byte[200];
        var leader = c._nodes[0];
        GC.Collect();
        var proc = Process.GetCurrentProcess();
        var cpu0 = proc.TotalProcessorTime;
        var alloc0 = GC.GetAllocatedBytesForCurrentThread();
        var start = c._leaderApplied;
        long proposed = start;
        var msgs0 = c._messages;
        while (c._leaderApplied - start < entries)
        {
            while (proposed - c._leaderApplied < outstanding && proposed - start < entries)
            {
                if (!leader.Propose(payload).IsAccepted) throw new InvalidOperationException("proposal refused");
                proposed++;
            }
            c.Pump();
            c.CompactIfLarge();
        }
        var alloc = GC.GetAllocatedBytesForCurrentThread() - alloc0;
        proc.Refresh();
        var cpu = proc.TotalProcessorTime - cpu0;
        return new Result(c._leaderApplied - start, cpu, alloc, c._messages - msgs0);
    }

    /// <summary>Host loop: process every Ready (persist, send, apply, advance), deliver messages, until quiet.</summary>
    private void Pump()
    {
        for (var round = 0; round < 1000; round++)
        {
            for (var i = 0; i < 3; i++)
            {
                var node = _nodes[i];
                while (node.HasReady())
                {
                    var rd = node.GetReady();
                    if (rd.Snapshot is { } s) _storages[i].ApplySnapshot(s);
                    if (rd.EntriesToPersist.Count > 0) _storages[i].Append(rd.EntriesToPersist);
                    if (rd.HardState is { } hs) _storages[i].SetHardState(hs);
                    _inbox.AddRange(rd.Messages);
                    if (i == 0)
                    {
                        var committed = rd.CommittedEntries;
                        for (var k = 0; k < committed.Count; k++) if (!committed[k].Data.IsEmpty) _leaderApplied++;
                    }
                    node.Advance(rd);
                }
            }
            if (_inbox.Count == 0) return;
            _delivering.AddRange(_inbox);
            _inbox.Clear();
            _messages += _delivering.Count;
            foreach (var m in _delivering) _nodes[(int)m.To - 1].Step(m);
            _delivering.Clear();
        }
    }

    private void CompactIfLarge()
    {
        for (var i = 0; i < 3; i++)
        {
            var s = _storages[i];
            var applied = _nodes[i].AppliedIndex;
            if (applied - (s.FirstIndex - 1) < 200_000) continue;
            s.CreateSnapshot(applied, _nodes[i].Configuration);
            s.Compact(applied - 1000);
        }
    }
}
