using HaMaster.Protos.V1;
using HaMaster.Raft;

namespace HaMaster.Server.Raft;

internal sealed partial class RaftHost
{
    private readonly List<(ulong Target, TaskCompletionSource Completion, long Deadline)> _transfers = [];
    private long _ticks;

    /// <summary>
    /// Adds a master: records its addresses, adds it as a learner, waits until its log has
    /// caught up (by entries or by snapshot), then promotes it to voter. Leader only.
    /// </summary>
    public async Task AddMasterAsync(MasterAddress address, bool learnerOnly, CancellationToken cancellationToken)
    {
        EnsureLeader();
        var directory = new MemberDirectory();
        directory.Members.AddRange(_directory.Members.Where(m => m.Id != address.Id));
        directory.Members.Add(address);
        await ProposeAsync(HostEntry.Encode(HostEntry.MemberDirectoryTag, directory), cancellationToken).ConfigureAwait(false);

        var status = await GetStatusAsync().ConfigureAwait(false);
        if (!status.Config.Contains(address.Id))
        {
            await ProposeConfigChangeAsync(new ConfigChange(ConfigChangeKind.AddLearner, address.Id), cancellationToken).ConfigureAwait(false);
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
            status = await GetStatusAsync().ConfigureAwait(false);
            if (status.Role != RaftRole.Leader) throw new NotLeaderException(status.Leader, "leadership moved while adding the master; retry on the new leader");
            var progress = status.Progress.FirstOrDefault(p => p.Id == address.Id);
            if (progress.Id == address.Id && progress.Match + 64 >= status.LastIndex)
            {
                try
                {
                    await ProposeConfigChangeAsync(new ConfigChange(ConfigChangeKind.PromoteLearner, address.Id), cancellationToken).ConfigureAwait(false);
                    return;
                }
                catch (ClusterPreconditionException e) when (e.Message.Contains("caught up", StringComparison.Ordinal) || e.Message.Contains("in progress", StringComparison.Ordinal))
                {
                    // lagged again, or the learner's own change is still committing: try again
                }
            }

            await Task.Delay(_options.TickInterval * 2, cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>Removes a master (voter or learner). Refused with a reason if quorum would be lost.</summary>
    public async Task RemoveMasterAsync(ulong id, CancellationToken cancellationToken)
    {
        EnsureLeader();
        await ProposeConfigChangeAsync(new ConfigChange(ConfigChangeKind.RemoveNode, id), cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Moves leadership to <paramref name="target"/> (0 = the most caught-up voter) and returns once it leads.</summary>
    public async Task<ulong> TransferLeadershipAsync(ulong target, CancellationToken cancellationToken)
    {
        var status = await GetStatusAsync().ConfigureAwait(false);
        if (status.Role != RaftRole.Leader) throw new NotLeaderException(status.Leader, "only the leader can transfer leadership");
        if (target == 0)
        {
            target = status.Progress.Where(p => p.Id != NodeId && !p.IsLearner).OrderByDescending(p => p.Match).Select(p => p.Id).FirstOrDefault();
            if (target == 0) throw new ClusterPreconditionException("there is no other voter to transfer leadership to");
        }

        if (target == NodeId) return target;
        if (!status.Config.IsVoter(target)) throw new ClusterPreconditionException($"master {target} is not a voter of the cluster ({status.Config})");

        var tcs = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        Post(() =>
        {
            _node.TransferLeadership(target);
            _transfers.Add((target, tcs, _ticks + 3L * _options.ElectionTicks));
        });
        await tcs.Task.WaitAsync(cancellationToken).ConfigureAwait(false);
        return target;
    }

    /// <summary>Asks the core to move leadership to <paramref name="target"/> without waiting for it (the simulation's).</summary>
    internal void BeginLeadershipTransfer(ulong target) => Post(() => _node.TransferLeadership(target));

    private void EnsureLeader()
    {
        var o = _observed;
        if (!o.IsLeader) throw new NotLeaderException(o.LeaderId, o.LeaderId == 0 ? "no leader: an election is under way, retry shortly" : "not the leader");
    }

    /// <summary>Called on the loop thread after every core tick.</summary>
    private void OnTick()
    {
        _ticks++;
        MaybeProbeSilentLeader();
        if (_transfers.Count > 0)
        {
            var leader = _observed.LeaderId;
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
                    tcs.TrySetException(new ClusterPreconditionException($"leadership transfer to master {target} did not complete within {3 * _options.ElectionTicks} ticks (target unreachable or not caught up)"));
                    _transfers.RemoveAt(i);
                }
            }
        }

        OnReadTick();
    }
}
