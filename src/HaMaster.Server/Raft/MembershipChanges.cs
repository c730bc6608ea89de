using HaMaster.Protos.V1;
using HaMaster.Raft;

namespace HaMaster.Server.Raft;

/// <summary>What <see cref="MembershipChanges"/> needs of the Raft loop.</summary>
internal interface IMembershipLoop
{
    ulong NodeId { get; }

    RaftObservedState Observed { get; }

    MemberDirectory Directory { get; }

    Task<RaftStatus> GetStatusAsync();

    /// <summary>Proposes a new member directory; completes when it is applied.</summary>
    Task ProposeDirectoryAsync(MemberDirectory directory, CancellationToken cancellationToken);

    Task ProposeConfigChangeAsync(ConfigChange change, CancellationToken cancellationToken);

    /// <summary>Runs <paramref name="work"/> on the loop thread, soon.</summary>
    void Post(Action work);

    /// <summary>Loop thread: asks the core to move leadership (<see cref="RawNode.TransferLeadership"/>).</summary>
    void BeginTransfer(ulong target);
}

/// <summary>
/// Operator-driven membership changes on the leader: adding a master (as a learner, promoted once caught
/// up), removing one, and moving leadership with a deadline. The async methods run on any thread and
/// talk to the loop through <see cref="IMembershipLoop"/>; <see cref="Tick"/> runs on the loop thread.
/// </summary>
internal sealed class MembershipChanges(IMembershipLoop loop, int electionTicks, TimeSpan tickInterval)
{
    // Loop thread only.
    private readonly List<(ulong Target, TaskCompletionSource Completion, long Deadline)> _transfers = [];
    private long _ticks;

    /// <summary>Ticks a leadership transfer may take before it fails.</summary>
    public int TransferTimeoutTicks => 3 * electionTicks;

    /// <summary>
    /// Adds a master: records its addresses, adds it as a learner, waits until its log has
    /// caught up (by entries or by snapshot), then promotes it to voter. Leader only.
    /// </summary>
    public async Task AddMasterAsync(MasterAddress address, bool learnerOnly, CancellationToken cancellationToken)
    {
        EnsureLeader();
        var directory = new MemberDirectory();
        directory.Members.AddRange(loop.Directory.Members.Where(m => m.Id != address.Id));
        directory.Members.Add(address);
        await loop.ProposeDirectoryAsync(directory, cancellationToken).ConfigureAwait(false);

        var status = await loop.GetStatusAsync().ConfigureAwait(false);
        if (!status.Config.Contains(address.Id))
        {
            await loop.ProposeConfigChangeAsync(new ConfigChange(ConfigChangeKind.AddLearner, address.Id), cancellationToken).ConfigureAwait(false);
        }
        else if (status.Config.IsVoter(address.Id))
        {
            return;
        }

        if (learnerOnly) return;

        // Promote once caught up. The core refuses a promotion of a lagging learner with a
        // value, so poll its progress (bounded by the caller's deadline).
        while (true)
        {
            cancellationToken.ThrowIfCancellationRequested();
            status = await loop.GetStatusAsync().ConfigureAwait(false);
            if (status.Role != RaftRole.Leader) throw new NotLeaderException(status.Leader, "leadership moved while adding the master; retry on the new leader");
            var progress = status.Progress.FirstOrDefault(p => p.Id == address.Id);
            if (progress.Id == address.Id && progress.Match + 64 >= status.LastIndex)
            {
                try
                {
                    await loop.ProposeConfigChangeAsync(new ConfigChange(ConfigChangeKind.PromoteLearner, address.Id), cancellationToken).ConfigureAwait(false);
                    return;
                }
                catch (ClusterPreconditionException e) when (e.Refusal is ProposeStatus.LearnerNotCaughtUp or ProposeStatus.ConfigChangeInFlight)
                {
                    // lagged again, or the learner's own change is still committing: try again
                }
            }

            await Task.Delay(tickInterval * 2, cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>Removes a master (voter or learner). Refused with a reason if quorum would be lost.</summary>
    public async Task RemoveMasterAsync(ulong id, CancellationToken cancellationToken)
    {
        EnsureLeader();
        await loop.ProposeConfigChangeAsync(new ConfigChange(ConfigChangeKind.RemoveNode, id), cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Moves leadership to <paramref name="target"/> (0 = the most caught-up voter) and returns once it leads.</summary>
    public async Task<ulong> TransferLeadershipAsync(ulong target, CancellationToken cancellationToken)
    {
        var status = await loop.GetStatusAsync().ConfigureAwait(false);
        if (status.Role != RaftRole.Leader) throw new NotLeaderException(status.Leader, "only the leader can transfer leadership");
        if (target == 0)
        {
            target = status.Progress.Where(p => p.Id != loop.NodeId && !p.IsLearner).OrderByDescending(p => p.Match).Select(p => p.Id).FirstOrDefault();
            if (target == 0) throw new ClusterPreconditionException("there is no other voter to transfer leadership to");
        }

        if (target == loop.NodeId) return target;
        if (!status.Config.IsVoter(target)) throw new ClusterPreconditionException($"master {target} is not a voter of the cluster ({status.Config})");

        var tcs = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        loop.Post(() =>
        {
            loop.BeginTransfer(target);
            _transfers.Add((target, tcs, _ticks + TransferTimeoutTicks));
        });
        await tcs.Task.WaitAsync(cancellationToken).ConfigureAwait(false);
        return target;
    }

    /// <summary>Loop thread, every tick: completes transfers whose target now leads, fails those past their deadline.</summary>
    public void Tick(ulong leader)
    {
        _ticks++;
        for (var i = _transfers.Count - 1; i >= 0; i--)
        {
            var (target, tcs, deadline) = _transfers[i];
            if (leader == target)
            {
                tcs.TrySetResult();
                _transfers.RemoveAt(i);
            }
            else if (_ticks > deadline)
            {
                tcs.TrySetException(new ClusterPreconditionException($"leadership transfer to master {target} did not complete within {TransferTimeoutTicks} ticks (target unreachable or not caught up)"));
                _transfers.RemoveAt(i);
            }
        }
    }

    private void EnsureLeader()
    {
        var o = loop.Observed;
        if (!o.IsLeader) throw new NotLeaderException(o.LeaderId, o.LeaderId == 0 ? "no leader: an election is under way, retry shortly" : "not the leader");
    }
}
