using HaMaster.Raft;

namespace HaMaster.Raft.Tests.Simulation;

internal sealed partial class SimCluster
{
    // Chain hash of the committed log at each index; _committed[0] = empty prefix. Never shrinks or changes.
    private readonly List<ulong> _committed = [0];
    private readonly Dictionary<(ulong Index, ulong Term), ulong> _chainAt = [];
    private readonly Dictionary<ulong, ulong> _leaderOfTerm = [];
    private readonly HashSet<ulong> _appliedPayloads = [];

    private ulong GlobalCommit => (ulong)(_committed.Count - 1);

    /// <summary>A node persisted commit index <paramref name="commit"/>: its log up to there must agree with every other
    /// committed prefix (no committed entry is ever lost or changed).</summary>
    private void RecordCommit(SimNode node, ulong commit)
    {
        if (commit >= (ulong)node.DurableChain.Count) Fail($"node {node.Id} committed {commit} beyond its durable log {node.DurableChain.Count - 1}");
        var overlap = Math.Min(commit, GlobalCommit);
        if (node.DurableChain[(int)overlap] != _committed[(int)overlap])
            Fail($"committed entry changed: node {node.Id} commit {commit} disagrees with the committed log at {overlap}");
        if (commit <= GlobalCommit) return;
        for (var i = (int)GlobalCommit + 1; i <= (int)commit; i++) _committed.Add(node.DurableChain[i]);
        // The entries became known committed in (at the latest) this node's current term.
        _commitTerms.Add((commit, node.Raft!.Term));
    }

    // (index, term): entries up to index were known committed by a node in that term; ascending index.
    private readonly List<(ulong Index, ulong Term)> _commitTerms = [];

    /// <summary>Highest index known committed in a term before <paramref name="term"/>.</summary>
    private ulong CommittedBefore(ulong term)
    {
        for (var i = _commitTerms.Count - 1; i >= 0; i--)
        {
            if (_commitTerms[i].Term < term) return _commitTerms[i].Index;
        }
        return 0;
    }

    /// <summary>Election Safety (§5.2): at most one leader per term.</summary>
    private void CheckLeaders()
    {
        foreach (var node in _nodes.Values)
        {
            if (node.Raft is not { Role: RaftRole.Leader } raft) continue;
            if (_leaderOfTerm.TryGetValue(raft.Term, out var other) && other != node.Id)
                Fail($"election safety: nodes {other} and {node.Id} both leaders in term {raft.Term}");
            _leaderOfTerm[raft.Term] = node.Id;
        }
    }

    private void CheckStepInvariants()
    {
        CheckLeaders();
        foreach (var node in _nodes.Values)
        {
            if (node.Raft is not { Role: RaftRole.Leader }) continue;
            // Leader Completeness (§5.4): a leader's (durable, since all Readies were processed) log holds every
            // entry committed in an earlier term. (A deposed leader that does not know it yet may lag: not checked.)
            var c = (int)CommittedBefore(node.Raft.Term);
            if (node.DurableChain.Count <= c || node.DurableChain[c] != _committed[c])
                Fail($"leader completeness: leader {node.Id} (term {node.Raft.Term}) lacks committed entry {c}");
        }
    }

    // ---- linearizable reads ----
    private sealed class PendingRead
    {
        public ulong Id { get; init; }
        public ulong Node { get; init; }
        /// <summary>Global commit index when the read was issued: any write acknowledged before must be visible.</summary>
        public ulong MinIndex { get; init; }
        public ulong? ReadIndex { get; set; }
    }

    private readonly List<PendingRead> _reads = [];
    private int _readsServed;

    private void OnReadState(SimNode node, ReadState rs)
    {
        var id = System.Buffers.Binary.BinaryPrimitives.ReadUInt64LittleEndian(rs.RequestContext.Span);
        var read = _reads.Find(r => r.Id == id && r.Node == node.Id);
        if (read is not null) read.ReadIndex = rs.Index;
    }

    private void ServeReads(SimNode node)
    {
        for (var i = _reads.Count - 1; i >= 0; i--)
        {
            var r = _reads[i];
            if (r.Node != node.Id || r.ReadIndex is not { } index || node.AppliedIndex < index) continue;
            // The read observes the state at node.AppliedIndex: it must include every write completed before it began.
            if (node.AppliedIndex < r.MinIndex)
                Fail($"stale read: node {node.Id} served read {r.Id} at applied index {node.AppliedIndex} (read index {index}) but {r.MinIndex} was committed before it was issued");
            _reads.RemoveAt(i);
            _readsServed++;
        }
    }
}
