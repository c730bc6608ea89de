using HaMaster.Raft;

namespace HaMaster.Server.Raft;

internal sealed partial class RaftHost
{
    private sealed record PendingProposal(ulong Term, TaskCompletionSource<object?> Completion);

    /// <summary>
    /// Proposes <paramref name="data"/> (a <see cref="HostEntry"/>) and completes with the state
    /// machine's result once the entry is committed AND applied on this master. Fails with
    /// <see cref="NotLeaderException"/> on a follower and <see cref="ProposalLostException"/> if
    /// another entry won its index. Cancellation only stops the wait: the entry may still commit.
    /// </summary>
    public Task<object?> ProposeAsync(byte[] data, CancellationToken cancellationToken)
    {
        var tcs = new TaskCompletionSource<object?>(TaskCreationOptions.RunContinuationsAsynchronously);
        Post(() =>
        {
            if (_fatal is { } fatal)
            {
                tcs.TrySetException(fatal);
                return;
            }

            var result = _node.Propose(data);
            Track(result, tcs);
        });
        return WithCancellation(tcs.Task, cancellationToken);
    }

    /// <summary>Proposes a membership change; completes when it is applied.</summary>
    public Task ProposeConfigChangeAsync(ConfigChange change, CancellationToken cancellationToken)
    {
        var tcs = new TaskCompletionSource<object?>(TaskCreationOptions.RunContinuationsAsynchronously);
        Post(() => Track(_node.ProposeConfigChange(change), tcs));
        return WithCancellation(tcs.Task, cancellationToken);
    }

    private void Track(ProposeResult result, TaskCompletionSource<object?> tcs)
    {
        switch (result.Status)
        {
            case ProposeStatus.Accepted:
                // An older proposal still waiting at this index lost it: as leader of a newer term we
                // just appended our own entry there, so its entry is gone from our log and, by Leader
                // Completeness, never committed. Without this its caller would wait forever.
                if (_pending.Remove(result.Index, out var replaced))
                {
                    replaced.Completion.TrySetException(new ProposalLostException($"entry {result.Index} (term {replaced.Term}) was replaced by an entry of term {result.Term} before it committed; retry"));
                }

                _pending[result.Index] = new PendingProposal(result.Term, tcs);
                break;
            case ProposeStatus.NotLeader:
                tcs.TrySetException(new NotLeaderException(result.LeaderHint, result.LeaderHint == 0 ? "no leader: an election is under way, retry shortly" : $"not the leader; the leader is master {result.LeaderHint}"));
                break;
            case ProposeStatus.TransferInProgress:
                tcs.TrySetException(new NotLeaderException(0, "leadership is being transferred; retry on the new leader"));
                break;
            case ProposeStatus.UncommittedLimit:
                tcs.TrySetException(new ClusterPreconditionException("too many uncommitted entries (the followers are slow or unreachable); retry later"));
                break;
            case ProposeStatus.ConfigChangeInFlight:
                tcs.TrySetException(new ClusterPreconditionException("another membership change is still in progress; retry when it has committed"));
                break;
            case ProposeStatus.LeaderNotReady:
                tcs.TrySetException(new ClusterPreconditionException("the new leader has not committed an entry of its term yet; retry shortly"));
                break;
            case ProposeStatus.WouldLoseQuorum:
                tcs.TrySetException(new ClusterPreconditionException("refused: the change would leave the cluster without a live, caught-up quorum of voters"));
                break;
            case ProposeStatus.AlreadyMember:
                tcs.TrySetException(new ClusterPreconditionException("the master is already a member in that role"));
                break;
            case ProposeStatus.UnknownMember:
                tcs.TrySetException(new ClusterPreconditionException("no such member (or, for a promotion, it is not a learner)"));
                break;
            case ProposeStatus.LearnerNotCaughtUp:
                tcs.TrySetException(new ClusterPreconditionException("the learner has not caught up with the leader's log yet"));
                break;
            default:
                tcs.TrySetException(new InvalidOperationException($"unexpected proposal status {result.Status}"));
                break;
        }
    }

    private void CompleteProposal(AppliedResult applied)
    {
        if (!_pending.Remove(applied.Index, out var p)) return;
        if (p.Term == applied.Term) p.Completion.TrySetResult(applied.Result);
        else p.Completion.TrySetException(new ProposalLostException($"leadership changed: entry {applied.Index} committed in term {applied.Term}, not {p.Term}; retry"));
    }

    // Without a cancellable token the caller gets the completion's own task (no wrapper completing
    // later on the thread pool).
    private static Task<T> WithCancellation<T>(Task<T> task, CancellationToken cancellationToken) =>
        !cancellationToken.CanBeCanceled || task.IsCompleted ? task : task.WaitAsync(cancellationToken);
}
