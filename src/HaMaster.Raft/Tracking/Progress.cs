namespace HaMaster.Raft.Tracking;

/// <summary>
/// The leader's view of one member's log (thesis §3.5 nextIndex/matchIndex plus etcd's flow-control states).
/// Owned by the leader's <see cref="RawNode"/>; single-threaded.
/// </summary>
internal sealed class Progress
{
    public Progress(ulong match, ulong next, bool isLearner, int maxInflight, long maxInflightBytes)
    {
        Match = match;
        Next = next;
        IsLearner = isLearner;
        Inflights = new Inflights(maxInflight, maxInflightBytes);
    }

    /// <summary>Highest index known to be replicated on the member.</summary>
    public ulong Match { get; set; }
    /// <summary>Index of the next entry to send.</summary>
    public ulong Next { get; set; }
    public ProgressState State { get; private set; } = ProgressState.Probe;
    /// <summary>Snapshot index being sent while in <see cref="ProgressState.Snapshot"/>.</summary>
    public ulong PendingSnapshot { get; private set; }
    /// <summary>Heard from since the last check-quorum interval.</summary>
    public bool RecentActive { get; set; }
    /// <summary>Leader tick at which we last heard from the member.</summary>
    public long LastHeardTick { get; set; } = long.MinValue / 2;
    /// <summary>In probe state: an append is outstanding; wait for its response or a heartbeat response.</summary>
    public bool ProbeSent { get; set; }
    public bool IsLearner { get; set; }
    /// <summary>
    /// Non-zero for a member just removed from the configuration: it keeps receiving the log (counted in no
    /// quorum) until it holds this index, the entry that removed it, so that it learns of its removal.
    /// </summary>
    public ulong DepartAt { get; set; }
    public Inflights Inflights { get; }
    /// <summary>Highest heartbeat round the member acknowledged in the current term (ReadIndex confirmation).</summary>
    public ulong AckedRound { get; set; }

    /// <summary>True when no append may be sent now.</summary>
    public bool IsPaused => State switch
    {
        ProgressState.Probe => ProbeSent,
        ProgressState.Replicate => Inflights.Full,
        _ => true,
    };

    public void BecomeProbe()
    {
        // Coming back from a snapshot, resume after it; otherwise right after the last known match.
        var next = State == ProgressState.Snapshot ? Math.Max(Match + 1, PendingSnapshot + 1) : Match + 1;
        Reset(ProgressState.Probe);
        Next = next;
    }

    /// <summary>The snapshot was not installed: probe from the last known match instead of after the snapshot.</summary>
    public void AbortSnapshot() => PendingSnapshot = 0;

    public void BecomeReplicate()
    {
        Reset(ProgressState.Replicate);
        Next = Match + 1;
    }

    public void BecomeSnapshot(ulong snapshotIndex)
    {
        Reset(ProgressState.Snapshot);
        PendingSnapshot = snapshotIndex;
    }

    private void Reset(ProgressState state)
    {
        State = state;
        ProbeSent = false;
        PendingSnapshot = 0;
        Inflights.Reset();
    }

    /// <summary>A successful append response acknowledged <paramref name="index"/>; false if it was stale.</summary>
    public bool MaybeUpdate(ulong index)
    {
        var updated = false;
        if (Match < index)
        {
            Match = index;
            updated = true;
            ProbeSent = false;
        }
        Next = Math.Max(Next, index + 1);
        return updated;
    }

    /// <summary>
    /// The member rejected an append whose preceding index was <paramref name="rejected"/>, hinting its log matches at
    /// most up to <paramref name="matchHint"/>. Returns false for stale rejections (duplicates, reordering).
    /// </summary>
    public bool MaybeDecrTo(ulong rejected, ulong matchHint)
    {
        if (State == ProgressState.Replicate)
        {
            if (rejected <= Match) return false;
            Next = Match + 1;
            return true;
        }
        if (Next == 0 || Next - 1 != rejected) return false;
        Next = Math.Max(Math.Min(rejected, matchHint + 1), Match + 1);
        ProbeSent = false;
        return true;
    }

    /// <summary>Records an append carrying entries up to <paramref name="lastIndex"/> (if any).</summary>
    public void OnEntriesSent(int count, ulong lastIndex, long bytes)
    {
        switch (State)
        {
            case ProgressState.Replicate:
                if (count > 0)
                {
                    Next = lastIndex + 1;
                    Inflights.Add(lastIndex, bytes);
                }
                break;
            case ProgressState.Probe:
                ProbeSent = true;
                break;
            default:
                throw new InvalidOperationException("Sending entries in snapshot state.");
        }
    }

    public override string ToString() => $"{State} match={Match} next={Next} inflight={Inflights.Count}";
}
