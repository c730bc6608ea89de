using System.Buffers.Binary;
using HaMaster.Raft;

namespace HaMaster.Server.Raft;

internal sealed partial class RaftHost
{
    // Reads asked for since the last ReadIndex request went out; they share the next one.
    private List<TaskCompletionSource<ulong>> _queuedReads = [];

    // ReadIndex requests out (by context), each with the reads it will confirm.
    private readonly Dictionary<ulong, ReadBatch> _readBatches = [];
    private ulong _nextReadContext;
    private long _lastReadIssuedTick;
    private long _readIndexRequests;
    private long _linearizableReads;

    /// <summary>ReadIndex requests issued so far (each confirms a batch of reads). Thread-safe.</summary>
    public long ReadIndexRequests => Interlocked.Read(ref _readIndexRequests);

    /// <summary>Linearizable reads confirmed by the leader so far (their ReadIndex answered; they
    /// still wait for the apply). Thread-safe.</summary>
    public long LinearizableReads => Interlocked.Read(ref _linearizableReads);

    /// <summary>Election timeouts a read may wait for its confirmation while a leader is known
    /// (its ReadIndex is re-issued after each) before it fails.</summary>
    private const int ReadAttempts = 10;

    private sealed class ReadBatch(List<TaskCompletionSource<ulong>> waiters, long issuedAtTick, int attempt)
    {
        public List<TaskCompletionSource<ulong>> Waiters { get; } = waiters;

        public long IssuedAtTick { get; } = issuedAtTick;

        public int Attempt { get; } = attempt;
    }

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

    /// <summary>
    /// Sends one ReadIndex for every queued read. One at a time, as etcd's read loop does: reads
    /// that arrive while a ReadIndex is out wait for the next one, so a stream of reads costs one
    /// heartbeat round per round trip instead of one per read (the leader's and the followers'
    /// CPU, and the peer links, were the limit with 30,000 clients). A ReadIndex unanswered for two
    /// ticks no longer holds the queue (its request or answer may have been lost; it is re-issued
    /// on its own after an election timeout). Runs on the loop; also called every tick.
    /// </summary>
    private void IssueQueuedReads()
    {
        if (_queuedReads.Count == 0) return;
        if (_readBatches.Count > 0 && _ticks - _lastReadIssuedTick < 2) return;
        var batch = _queuedReads;
        _queuedReads = [];
        if (_observed.LeaderId == 0)
        {
            foreach (var r in batch) r.TrySetException(new NotLeaderException(0, "no leader: an election is under way, retry shortly"));
            return;
        }

        IssueReadIndex(batch, attempt: 0);
    }

    /// <summary>Asks the core for a read index for <paramref name="waiters"/> under a fresh context.
    /// A retried batch gets a new context, so a late answer to the old one is ignored.</summary>
    private void IssueReadIndex(List<TaskCompletionSource<ulong>> waiters, int attempt)
    {
        var ctx = ++_nextReadContext;
        _readBatches[ctx] = new ReadBatch(waiters, _ticks, attempt);
        _lastReadIssuedTick = _ticks;
        Interlocked.Increment(ref _readIndexRequests);
        var bytes = new byte[8];
        BinaryPrimitives.WriteUInt64LittleEndian(bytes, ctx);
        _node.ReadIndex(bytes);
    }

    /// <summary>
    /// Every tick: sends the queued reads if the ReadIndex ahead of them is overdue, and re-issues
    /// a ReadIndex that has had no answer for an election timeout (its request or the answer was
    /// dropped by an overloaded peer link, or the leader is gone) under a new context, together
    /// with the reads queued since, while a leader is known; after <see cref="ReadAttempts"/>
    /// tries, or with no leader, its reads fail instead of hanging until the clients' deadlines.
    /// </summary>
    private void OnReadTick()
    {
        IssueQueuedReads();
        if (_readBatches.Count == 0) return;
        List<(ulong Context, ReadBatch Batch)>? overdue = null;
        foreach (var (ctx, batch) in _readBatches)
        {
            if (_ticks - batch.IssuedAtTick > _options.ElectionTicks) (overdue ??= []).Add((ctx, batch));
        }

        if (overdue is null) return;
        foreach (var (ctx, batch) in overdue)
        {
            _readBatches.Remove(ctx);
            if (batch.Attempt + 1 < ReadAttempts && _observed.LeaderId != 0)
            {
                var waiters = batch.Waiters;
                waiters.AddRange(_queuedReads);
                _queuedReads = [];
                IssueReadIndex(waiters, batch.Attempt + 1);
            }
            else
            {
                foreach (var r in batch.Waiters) r.TrySetException(new NotLeaderException(_observed.LeaderId, "the read could not be confirmed by a quorum in time; retry"));
            }
        }
    }

    private void OnReadState(ReadState read)
    {
        if (read.RequestContext.Length != 8) return;
        var ctx = BinaryPrimitives.ReadUInt64LittleEndian(read.RequestContext.Span);
        if (!_readBatches.Remove(ctx, out var issued)) return;
        if (_queuedReads.Count > 0) Post(IssueQueuedReads);
        var batch = issued.Waiters;
        Interlocked.Add(ref _linearizableReads, batch.Count);
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
        if (_queuedReads.Count > 0) Post(IssueQueuedReads);
        foreach (var r in batch.Waiters) r.TrySetException(new NotLeaderException(_observed.LeaderId, "the read could not be confirmed by a leader (leadership changing); retry"));
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
            foreach (var r in batch.Waiters) r.TrySetException(e);
        }

        _readBatches.Clear();
    }
}
