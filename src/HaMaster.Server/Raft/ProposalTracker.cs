using HaMaster.Raft;

namespace HaMaster.Server.Raft;

/// <summary>
/// Proposals the core accepted, by log index, each waiting for the state machine's result of type
/// <typeparamref name="TResult"/> (default for entries that have none: no-ops, membership entries).
/// A proposal completes with its result only if the entry applied at its index is its own (same
/// term); any other outcome fails it with an exception the caller can act on. Called only from the
/// Raft loop thread; completions run their continuations asynchronously.
/// </summary>
internal sealed class ProposalTracker<TResult>
{
    private readonly Dictionary<ulong, Pending> _pending = [];

    private readonly record struct Pending(ulong Term, TaskCompletionSource<TResult?> Completion);

    /// <summary>Proposals still waiting.</summary>
    public int Count => _pending.Count;

    /// <summary>Records the core's answer to a proposal: waits for an accepted one, fails a refused one with its reason.</summary>
    public void Track(ProposeResult result, TaskCompletionSource<TResult?> completion)
    {
        if (result.Status != ProposeStatus.Accepted)
        {
            completion.TrySetException(Refusal(result));
            return;
        }

        // An older proposal still waiting at this index lost it: as leader of a newer term we just
        // appended our own entry there, so its entry is gone from our log and, by Leader Completeness,
        // never committed. Without this its caller would wait forever.
        if (_pending.Remove(result.Index, out var replaced))
        {
            replaced.Completion.TrySetException(new ProposalLostException($"entry {result.Index} (term {replaced.Term}) was replaced by an entry of term {result.Term} before it committed; retry"));
        }

        _pending[result.Index] = new Pending(result.Term, completion);
    }

    /// <summary>The exception a refused proposal fails with; its message says why and what to do.</summary>
    public static Exception Refusal(ProposeResult result) => result.Status switch
    {
        ProposeStatus.NotLeader => new NotLeaderException(result.LeaderHint, result.LeaderHint == 0 ? "no leader: an election is under way, retry shortly" : $"not the leader; the leader is master {result.LeaderHint}"),
        ProposeStatus.TransferInProgress => new NotLeaderException(0, "leadership is being transferred; retry on the new leader"),
        ProposeStatus.UncommittedLimit => new ClusterPreconditionException("too many uncommitted entries (the followers are slow or unreachable); retry later", result.Status),
        ProposeStatus.ConfigChangeInFlight => new ClusterPreconditionException("another membership change is still in progress; retry when it has committed", result.Status),
        ProposeStatus.LeaderNotReady => new ClusterPreconditionException("the new leader has not committed an entry of its term yet; retry shortly", result.Status),
        ProposeStatus.WouldLoseQuorum => new ClusterPreconditionException("refused: the change would leave the cluster without a live, caught-up quorum of voters", result.Status),
        ProposeStatus.AlreadyMember => new ClusterPreconditionException("the master is already a member in that role", result.Status),
        ProposeStatus.UnknownMember => new ClusterPreconditionException("no such member (or, for a promotion, it is not a learner)", result.Status),
        ProposeStatus.LearnerNotCaughtUp => new ClusterPreconditionException("the learner has not caught up with the leader's log yet", result.Status),
        _ => new InvalidOperationException($"unexpected proposal status {result.Status}"),
    };

    /// <summary>An entry applied with a result: completes the proposal waiting at its index, if it was this entry.</summary>
    public void Complete(in AppliedResult<TResult> applied)
    {
        if (!_pending.Remove(applied.Index, out var p)) return;
        if (p.Term == applied.Term) p.Completion.TrySetResult(applied.Result);
        else p.Completion.TrySetException(new ProposalLostException($"leadership changed: entry {applied.Index} committed in term {applied.Term}, not {p.Term}; retry"));
    }

    /// <summary>
    /// After <see cref="Complete"/> for a batch: a proposal at an index now applied that got no result saw a
    /// different entry win its index.
    /// </summary>
    public void FailUnansweredUpTo(ulong applied)
    {
        foreach (var (index, p) in TakeUpTo(applied))
        {
            p.Completion.TrySetException(new ProposalLostException($"leadership changed before entry {index} (term {p.Term}) committed; retry"));
        }
    }

    /// <summary>
    /// A snapshot from the leader covered every index up to <paramref name="snapshotIndex"/> before this master
    /// applied them: a proposal there may be inside the snapshot or may have lost its index, and this master
    /// cannot tell. The client's retry with the same session gets the first answer if it took effect.
    /// </summary>
    public void FailCoveredBySnapshot(ulong snapshotIndex)
    {
        foreach (var (index, p) in TakeUpTo(snapshotIndex))
        {
            p.Completion.TrySetException(new ProposalOutcomeUnknownException($"entry {index} (term {p.Term}) was covered by a snapshot from the leader before this master applied it: it may or may not have taken effect; retry with the same session to learn its result"));
        }
    }

    /// <summary>The loop stopped (e.g. a disk failure): every waiting proposal fails with <paramref name="error"/>.</summary>
    public void FailAll(Exception error)
    {
        foreach (var p in _pending.Values) p.Completion.TrySetException(error);
        _pending.Clear();
    }

    private List<(ulong Index, Pending Proposal)> TakeUpTo(ulong index)
    {
        List<(ulong, Pending)> taken = [];
        if (_pending.Count == 0) return taken;
        foreach (var (i, p) in _pending)
        {
            if (i <= index) taken.Add((i, p));
        }

        foreach (var (i, _) in taken) _pending.Remove(i);
        return taken;
    }
}
