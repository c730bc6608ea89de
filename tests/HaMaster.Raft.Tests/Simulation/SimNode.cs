using HaMaster.Raft;

namespace HaMaster.Raft.Tests.Simulation;

/// <summary>One simulated server: durable storage survives crashes; the RawNode and the applied state do not.</summary>
internal sealed class SimNode(ulong id, ClusterConfig bootstrap)
{
    public ulong Id { get; } = id;
    public MemoryRaftLogStorage Storage { get; } = new(bootstrap);
    public RawNode? Raft { get; set; }
    public int Incarnation { get; set; }
    /// <summary>Chain hash of the durable log at each index (index 0 = empty prefix). Mirrors <see cref="Storage"/>.</summary>
    public List<ulong> DurableChain { get; } = [0];
    public ulong AppliedIndex { get; set; }
    public ulong AppliedChain { get; set; }
    public ClusterConfig AppliedConfig { get; set; } = bootstrap;
    public bool Alive => Raft is not null;
    /// <summary>0, or k: this node's clock skips every k-th tick (drift).</summary>
    public int SkipEvery { get; set; }
}
