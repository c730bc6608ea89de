using System.Buffers.Binary;
using HaMaster.Raft;

namespace HaMaster.Server.Raft;

internal sealed partial class RaftHost
{
    // Reads asked for since the last ReadIndex request; all share the next one (batching:
    // one heartbeat round confirms leadership for every read queued behind it).
    private List<TaskCompletionSource<ulong>> _queuedReads = [];
    private readonly Dictionary<ulong, List<TaskCompletionSource<ulong>>> _readBatches = [];
    private ulong _nextReadContext;

    // Retry count of re-issued read batches (absent = first attempt).
    private readonly Dictionary<ulong, int> _readAttempt = [];

    /// <summary>Tries (one election timeout each) before a read that gets no confirmation fails.</summary>
    private const int ReadAttempts = 3;

    /// <summary>
    /// Linearizable read barrier (Raft thesis section 6.4): completes once this master has applied
    /// every entry the leader had committed when the read was issued. Works on followers (the
    /// core forwards the request to the leader). Fails with <see cref="NotLeaderException"/>
    /// when there is no leader to confirm the read.
    /// </summary>
    public Task<ulong> ReadBarrierAsync(CancellationToken cancellationToken)
    {
        var tcs = new TaskCompletionSource<ulong>(TaskCreationOptions.RunContinuationsAsynchronously);
        Post(() =>
        {
            if (_fatal is { } fatal)
            {
                tcs.TrySetException(fatal);
                return;
            }

            _queuedReads.Add(tcs);
            if (_queuedReads.Count == 1) Post(IssueQueuedReads);
        });
        return WithCancellation(tcs.Task, cancellationToken);
    }

    private void IssueQueuedReads()
    {
        if (_queuedReads.Count == 0) return;
        var batch = _queuedReads;
        _queuedReads = [];
        if (_observed.LeaderId == 0)
        {
            foreach (var r in batch) r.TrySetException(new NotLeaderException(0, "no leader: an election is under way, retry shortly"));
            return;
        }

        IssueReadIndex(batch, attempt: 0);
    }

    /// <summary>Asks the core for a read index for <paramref name="batch"/> under a fresh context.
    /// A retried batch gets a new context, so a late answer to the old one is ignored.</summary>
    private void IssueReadIndex(List<TaskCompletionSource<ulong>> batch, int attempt)
    {
        var ctx = ++_nextReadContext;
        _readBatches[ctx] = batch;
        if (attempt > 0) _readAttempt[ctx] = attempt;
        var bytes = new byte[8];
        BinaryPrimitives.WriteUInt64LittleEndian(bytes, ctx);
        _node.ReadIndex(bytes);
    }

    private void OnReadState(ReadState read)
    {
        if (read.RequestContext.Length != 8) return;
        var ctx = BinaryPrimitives.ReadUInt64LittleEndian(read.RequestContext.Span);
        if (!_readBatches.Remove(ctx, out var batch)) return;
        _readAttempt.Remove(ctx);
        if (_stateMachine.AppliedIndex >= read.Index)
        {
            foreach (var r in batch) r.TrySetResult(read.Index);
            return;
        }

        var waiter = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        _appliedWaiters.Enqueue(waiter, read.Index);
        var index = read.Index;
        _ = waiter.Task.ContinueWith(
            t =>
            {
                foreach (var r in batch)
                {
                    if (t.IsCompletedSuccessfully) r.TrySetResult(index);
                    else r.TrySetException(t.Exception?.InnerException ?? new InvalidOperationException("read failed"));
                }
            },
            CancellationToken.None,
            TaskContinuationOptions.ExecuteSynchronously,
            TaskScheduler.Default);
    }

    private void OnReadDropped(ReadOnlyMemory<byte> context)
    {
        if (context.Length != 8) return;
        var ctx = BinaryPrimitives.ReadUInt64LittleEndian(context.Span);
        if (!_readBatches.Remove(ctx, out var batch)) return;
        _readAttempt.Remove(ctx);
        foreach (var r in batch) r.TrySetException(new NotLeaderException(_observed.LeaderId, "the read could not be confirmed by a leader (leadership changing); retry"));
    }

    /// <summary>Completes once the state machine has applied <paramref name="index"/>.</summary>
    public Task WaitForAppliedAsync(ulong index, CancellationToken cancellationToken)
    {
        var tcs = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        Post(() =>
        {
            if (_stateMachine.AppliedIndex >= index) tcs.TrySetResult();
            else _appliedWaiters.Enqueue(tcs, index);
        });
        return tcs.Task.WaitAsync(cancellationToken);
    }

    private void ReleaseAppliedWaiters(ulong applied)
    {
        while (_appliedWaiters.TryPeek(out var w, out var index) && index <= applied)
        {
            _appliedWaiters.Dequeue();
            w.TrySetResult();
        }
    }

    private void FailAllReads(Exception e)
    {
        foreach (var r in _queuedReads) r.TrySetException(e);
        _queuedReads.Clear();
        foreach (var batch in _readBatches.Values)
        {
            foreach (var r in batch) r.TrySetException(e);
        }

        _readBatches.Clear();
        _readAttempt.Clear();
    }
}
