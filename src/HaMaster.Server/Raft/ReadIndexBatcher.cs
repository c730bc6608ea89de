using System.Buffers.Binary;
using HaMaster.Raft;

namespace HaMaster.Server.Raft;

/// <summary>
/// Linearizable reads (Raft thesis section 6.4), batched: reads asked for while a ReadIndex request is
/// out share the next one, as etcd's read loop does, so a stream of reads costs one heartbeat round
/// per round trip instead of one per read (the leader's and the followers' CPU, and the peer links,
/// were the limit with 30,000 clients). A confirmed read waits until its index is applied.
/// Called only from the Raft loop thread (the counters are read from any thread).
/// </summary>
internal sealed class ReadIndexBatcher
{
    /// <summary>Election timeouts a read may wait for its confirmation while a leader is known
    /// (its ReadIndex is re-issued after each) before it fails.</summary>
    public const int ReadAttempts = 10;

    private readonly Action<ReadOnlyMemory<byte>> _readIndex;
    private readonly Func<ulong> _leader;
    private readonly Func<ulong> _applied;
    private readonly Action<Action> _post;
    private readonly AppliedWaiters _appliedWaiters;
    private readonly int _electionTicks;

    // Reads asked for since the last ReadIndex request went out; they share the next one.
    private List<TaskCompletionSource<ulong>> _queued = [];

    // ReadIndex requests out (by context), each with the reads it will confirm.
    private readonly Dictionary<ulong, Batch> _batches = [];
    private ulong _nextContext;
    private long _ticks;
    private long _lastIssuedTick;
    private long _readIndexRequests;
    private long _linearizableReads;

    /// <param name="readIndex">Asks the core for a read index under a context (<see cref="RawNode.ReadIndex"/>).</param>
    /// <param name="leader">The known leader, 0 if none.</param>
    /// <param name="applied">The state machine's applied index.</param>
    /// <param name="post">Runs work later on the loop thread, after the work already posted.</param>
    /// <param name="appliedWaiters">Where confirmed reads wait for their index to apply.</param>
    /// <param name="electionTicks">Ticks after which an unanswered ReadIndex is re-issued.</param>
    public ReadIndexBatcher(Action<ReadOnlyMemory<byte>> readIndex, Func<ulong> leader, Func<ulong> applied, Action<Action> post, AppliedWaiters appliedWaiters, int electionTicks)
    {
        _readIndex = readIndex;
        _leader = leader;
        _applied = applied;
        _post = post;
        _appliedWaiters = appliedWaiters;
        _electionTicks = electionTicks;
    }

    private sealed record Batch(List<TaskCompletionSource<ulong>> Waiters, long IssuedAtTick, int Attempt);

    /// <summary>ReadIndex requests issued so far (each confirms a batch of reads). Thread-safe.</summary>
    public long ReadIndexRequests => Interlocked.Read(ref _readIndexRequests);

    /// <summary>Reads confirmed by the leader so far (they may still wait for the apply). Thread-safe.</summary>
    public long LinearizableReads => Interlocked.Read(ref _linearizableReads);

    /// <summary>ReadIndex requests waiting for an answer.</summary>
    public int Outstanding => _batches.Count;

    /// <summary>Queues a read; the queue is sent after the work posted before it, so reads posted together share a ReadIndex.</summary>
    public void Enqueue(TaskCompletionSource<ulong> read)
    {
        _queued.Add(read);
        if (_queued.Count == 1) _post(IssueQueued);
    }

    /// <summary>
    /// Sends one ReadIndex for every queued read, one at a time: a ReadIndex unanswered for two ticks
    /// no longer holds the queue (its request or answer may have been lost; it is re-issued on its own
    /// after an election timeout).
    /// </summary>
    public void IssueQueued()
    {
        if (_queued.Count == 0) return;
        if (_batches.Count > 0 && _ticks - _lastIssuedTick < 2) return;
        var batch = _queued;
        _queued = [];
        if (_leader() == 0)
        {
            foreach (var r in batch) r.TrySetException(new NotLeaderException(0, "no leader: an election is under way, retry shortly"));
            return;
        }

        Issue(batch, attempt: 0);
    }

    // A retried batch gets a new context, so a late answer to the old one is ignored.
    private void Issue(List<TaskCompletionSource<ulong>> waiters, int attempt)
    {
        var ctx = ++_nextContext;
        _batches[ctx] = new Batch(waiters, _ticks, attempt);
        _lastIssuedTick = _ticks;
        Interlocked.Increment(ref _readIndexRequests);
        var bytes = new byte[8];
        BinaryPrimitives.WriteUInt64LittleEndian(bytes, ctx);
        _readIndex(bytes);
    }

    /// <summary>
    /// Every tick: sends the queued reads if the ReadIndex ahead of them is overdue, and re-issues a
    /// ReadIndex that has had no answer for an election timeout (its request or the answer was dropped
    /// by an overloaded peer link, or the leader is gone) under a new context, together with the reads
    /// queued since, while a leader is known; after <see cref="ReadAttempts"/> tries, or with no
    /// leader, its reads fail instead of hanging until the clients' deadlines.
    /// </summary>
    public void Tick()
    {
        _ticks++;
        IssueQueued();
        if (_batches.Count == 0) return;
        List<(ulong Context, Batch Batch)>? overdue = null;
        foreach (var (ctx, batch) in _batches)
        {
            if (_ticks - batch.IssuedAtTick > _electionTicks) (overdue ??= []).Add((ctx, batch));
        }

        if (overdue is null) return;
        foreach (var (ctx, batch) in overdue)
        {
            _batches.Remove(ctx);
            var leader = _leader();
            if (batch.Attempt + 1 < ReadAttempts && leader != 0)
            {
                var waiters = batch.Waiters;
                waiters.AddRange(_queued);
                _queued = [];
                Issue(waiters, batch.Attempt + 1);
            }
            else
            {
                foreach (var r in batch.Waiters) r.TrySetException(new NotLeaderException(leader, "the read could not be confirmed by a quorum in time; retry"));
            }
        }
    }

    /// <summary>The core answered a ReadIndex: its reads complete once <see cref="ReadState.Index"/> is applied.</summary>
    public void OnReadState(ReadState read)
    {
        if (!TryTake(read.RequestContext, out var issued)) return;
        var batch = issued.Waiters;
        Interlocked.Add(ref _linearizableReads, batch.Count);
        var index = read.Index;
        var appliedTask = _appliedWaiters.WaitFor(index, _applied());
        if (appliedTask.IsCompleted)
        {
            foreach (var r in batch) r.TrySetResult(index);
            return;
        }

        _ = appliedTask.ContinueWith(
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

    /// <summary>The core dropped a ReadIndex (no leader to confirm it): its reads fail, to be retried.</summary>
    public void OnReadDropped(ReadOnlyMemory<byte> context)
    {
        if (!TryTake(context, out var batch)) return;
        foreach (var r in batch.Waiters) r.TrySetException(new NotLeaderException(_leader(), "the read could not be confirmed by a leader (leadership changing); retry"));
    }

    // The batch of an answered or dropped ReadIndex; the reads queued behind it go out next.
    private bool TryTake(ReadOnlyMemory<byte> context, out Batch batch)
    {
        batch = null!;
        if (context.Length != 8) return false;
        if (!_batches.Remove(BinaryPrimitives.ReadUInt64LittleEndian(context.Span), out var found)) return false;
        if (_queued.Count > 0) _post(IssueQueued);
        batch = found;
        return true;
    }

    public void FailAll(Exception error)
    {
        foreach (var r in _queued) r.TrySetException(error);
        _queued.Clear();
        foreach (var batch in _batches.Values)
        {
            foreach (var r in batch.Waiters) r.TrySetException(error);
        }

        _batches.Clear();
    }
}
