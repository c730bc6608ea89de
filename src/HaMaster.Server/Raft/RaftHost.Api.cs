using HaMaster.Protos.V1;
using HaMaster.Raft;

namespace HaMaster.Server.Raft;

// What other threads ask of the loop: each call posts its work to the loop thread and hands it to the
// collaborator that owns it there.
internal partial class RaftHost<TResult>
{
    /// <summary>Runs <paramref name="work"/> on the loop thread and returns its result.</summary>
    public Task<T> InvokeAsync<T>(Func<T> work)
    {
        var tcs = new TaskCompletionSource<T>(TaskCreationOptions.RunContinuationsAsynchronously);
        Post(() =>
        {
            try
            {
                tcs.TrySetResult(work());
            }
            catch (Exception e)
            {
                tcs.TrySetException(e);
            }
        });
        return tcs.Task;
    }

    /// <summary>The full core status (progress of every follower on the leader). Runs on the loop.</summary>
    public Task<RaftStatus> GetStatusAsync() => InvokeAsync(() => _node.Status);

    /// <summary>
    /// Proposes <paramref name="data"/> (a <see cref="HostEntry"/>) and completes with the state
    /// machine's result once the entry is committed AND applied on this master (default for an entry
    /// without one). Fails with <see cref="NotLeaderException"/> on a follower and
    /// <see cref="ProposalLostException"/> if another entry won its index. Cancellation only stops the
    /// wait: the entry may still commit.
    /// </summary>
    public Task<TResult?> ProposeAsync(byte[] data, CancellationToken cancellationToken)
    {
        var tcs = new TaskCompletionSource<TResult?>(TaskCreationOptions.RunContinuationsAsynchronously);
        Post(() =>
        {
            if (_fatal is { } fatal) tcs.TrySetException(fatal);
            else _proposals.Track(_node.Propose(data), tcs);
        });
        return WithCancellation(tcs.Task, cancellationToken);
    }

    /// <summary>Proposes a membership change; completes when it is applied.</summary>
    public Task ProposeConfigChangeAsync(ConfigChange change, CancellationToken cancellationToken)
    {
        var tcs = new TaskCompletionSource<TResult?>(TaskCreationOptions.RunContinuationsAsynchronously);
        Post(() => _proposals.Track(_node.ProposeConfigChange(change), tcs));
        return WithCancellation(tcs.Task, cancellationToken);
    }

    // Without a cancellable token the caller gets the completion's own task (no wrapper completing
    // later on the thread pool).
    private static Task<T> WithCancellation<T>(Task<T> task, CancellationToken cancellationToken) =>
        !cancellationToken.CanBeCanceled || task.IsCompleted ? task : task.WaitAsync(cancellationToken);

    /// <summary>
    /// Linearizable read barrier (Raft thesis section 6.4): completes once this master has applied
    /// every entry the leader had committed when the read was issued. Works on followers (the core
    /// forwards the request to the leader). Fails with <see cref="NotLeaderException"/> when there is
    /// no leader to confirm the read.
    /// </summary>
    public Task<ulong> ReadBarrierAsync(CancellationToken cancellationToken)
    {
        var tcs = new TaskCompletionSource<ulong>(TaskCreationOptions.RunContinuationsAsynchronously);
        Post(() =>
        {
            if (_fatal is { } fatal) tcs.TrySetException(fatal);
            else _reads.Enqueue(tcs);
        });
        return WithCancellation(tcs.Task, cancellationToken);
    }

    /// <inheritdoc cref="ReadIndexBatcher.ReadIndexRequests"/>
    public long ReadIndexRequests => _reads.ReadIndexRequests;

    /// <inheritdoc cref="ReadIndexBatcher.LinearizableReads"/>
    public long LinearizableReads => _reads.LinearizableReads;

    /// <summary>Completes once the state machine has applied <paramref name="index"/>.</summary>
    public Task WaitForAppliedAsync(ulong index, CancellationToken cancellationToken) =>
        InvokeAsync(() => _appliedWaiters.WaitFor(index, _stateMachine.AppliedIndex)).Unwrap().WaitAsync(cancellationToken);

    /// <summary>Takes a snapshot now (or joins the one in progress) and completes when it is durable.</summary>
    public Task<SnapshotMetadata> TakeSnapshotAsync(CancellationToken cancellationToken) =>
        InvokeAsync(() => _snapshotScheduler.Start(ClusterStateNow)).Unwrap().WaitAsync(cancellationToken);

    /// <summary>Raised on the loop thread after a local snapshot became durable (for metrics).</summary>
    public event Action<SnapshotMetadata, TimeSpan>? SnapshotTaken;

    private void OnSnapshotTaken(SnapshotMetadata meta, TimeSpan elapsed, TimeSpan loopShare)
    {
        _iteration.Snapshot(loopShare);
        Metrics?.SnapshotTaken(elapsed);
        SnapshotTaken?.Invoke(meta, elapsed);
    }

    /// <inheritdoc cref="MembershipChanges.AddMasterAsync"/>
    public Task AddMasterAsync(MasterAddress address, bool learnerOnly, CancellationToken cancellationToken) =>
        _changes.AddMasterAsync(address, learnerOnly, cancellationToken);

    /// <inheritdoc cref="MembershipChanges.RemoveMasterAsync"/>
    public Task RemoveMasterAsync(ulong id, CancellationToken cancellationToken) => _changes.RemoveMasterAsync(id, cancellationToken);

    /// <inheritdoc cref="MembershipChanges.TransferLeadershipAsync"/>
    public Task<ulong> TransferLeadershipAsync(ulong target, CancellationToken cancellationToken) => _changes.TransferLeadershipAsync(target, cancellationToken);

    /// <summary>Asks the core to move leadership to <paramref name="target"/> without waiting for it (the simulation's).</summary>
    internal void BeginLeadershipTransfer(ulong target) => Post(() => _node.TransferLeadership(target));

    /// <inheritdoc cref="HeartbeatPump.PumpedRounds"/>
    internal long PumpedHeartbeatRounds => _pump.PumpedRounds;

    Task IMembershipLoop.ProposeDirectoryAsync(MemberDirectory directory, CancellationToken cancellationToken) =>
        ProposeAsync(HostEntry.Encode(HostEntry.MemberDirectoryTag, directory), cancellationToken);

    void IMembershipLoop.BeginTransfer(ulong target) => _node.TransferLeadership(target);

    public void Dispose()
    {
        _stopping.Cancel();
        _wake.Release();
        _thread?.Join(TimeSpan.FromSeconds(10));
        try
        {
            _snapshotScheduler.BackgroundWork?.Wait(TimeSpan.FromSeconds(30));
        }
        catch (AggregateException)
        {
            // Its failure was reported to whoever asked for the snapshot.
        }

        _wake.Dispose();
        _stopping.Dispose();
        GC.SuppressFinalize(this);
    }
}
