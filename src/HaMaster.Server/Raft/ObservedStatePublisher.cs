using HaMaster.Raft;
using Microsoft.Extensions.Logging;

namespace HaMaster.Server.Raft;

/// <summary>
/// What other threads see of the Raft loop: an immutable <see cref="RaftObservedState"/> replaced after every
/// iteration that changed something, the last role/leader changes, and an event for each. Written only from
/// the loop thread; read from any thread.
/// </summary>
internal sealed class ObservedStatePublisher(RaftObservedState initial, ILogger logger)
{
    private const int HistoryLength = 20;
    private readonly Queue<LeadershipEvent> _history = new();
    private volatile RaftObservedState _current = initial;

    public RaftObservedState Current => _current;

    /// <summary>Raised on a thread-pool thread when this master's role or the known leader changes.</summary>
    public event Action<RaftObservedState>? LeadershipChanged;

    /// <summary>The last 20 role/leader changes seen by this master, oldest first.</summary>
    public IReadOnlyList<LeadershipEvent> History
    {
        get
        {
            lock (_history) return _history.ToArray();
        }
    }

    /// <summary>After an iteration: publishes the loop's progress (nothing is allocated when nothing changed).</summary>
    public void Progress(ulong term, ulong commitIndex, ulong lastLogIndex, ulong appliedIndex, ulong snapshotIndex, bool isVoter, bool isLearner) =>
        _current = _current.WithProgress(term, commitIndex, lastLogIndex, appliedIndex, snapshotIndex, isVoter, isLearner);

    /// <summary>The core's role or leader changed (a Ready's soft state); true if either really did.</summary>
    public bool SoftState(SoftState soft, ulong term)
    {
        var prev = _current;
        var next = prev with { LeaderId = soft.Leader, Role = soft.Role, LeaderChangedAt = DateTimeOffset.UtcNow };
        _current = next;
        if (prev.LeaderId == soft.Leader && prev.Role == soft.Role) return false;
        lock (_history)
        {
            _history.Enqueue(new LeadershipEvent(DateTimeOffset.UtcNow, soft.Leader, term, soft.Role.ToString()));
            while (_history.Count > HistoryLength) _history.Dequeue();
        }

        LogMessages.LeadershipChanged(logger, prev.NodeId, soft.Role.ToString(), soft.Leader, term);
        var handler = LeadershipChanged;
        if (handler is not null) ThreadPool.QueueUserWorkItem(_ => handler(next));
        return true;
    }
}
