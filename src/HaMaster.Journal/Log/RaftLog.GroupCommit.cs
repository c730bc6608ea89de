namespace HaMaster.Journal;

/// <summary>
/// Group commit: flusher threads take everything appended so far as one round (one write, one
/// fdatasync per dirty file); up to <see cref="RaftLogOptions.MaxConcurrentSyncs"/> rounds overlap.
/// </summary>
/// <remarks>
/// Why overlapping rounds are safe: only the active segment can hold unsynced data (a segment is
/// synced when the log rolls past it), and fdatasync of a file waits for pages already under
/// writeback by an earlier, still running fdatasync. Rounds still publish durability strictly in
/// order (round r waits for round r-1), and a failed round fails every later one.
/// </remarks>
public sealed partial class RaftLog
{
    private readonly Thread[] _flushers;
    private readonly ManualResetEventSlim _wake = new(false);
    private readonly object _publishGate = new();
    private long _appendSeq;
    private long _durableSeq;
    private long _roundsStarted;
    private long _roundsPublished;
    private long _groupCommits;
    private TaskCompletionSource? _nextRound;
    private volatile bool _stopping;

    /// <summary>Group-commit rounds completed (each is one write plus one fdatasync per dirty file).</summary>
    public long GroupCommitCount => Interlocked.Read(ref _groupCommits);

    /// <summary>
    /// Completes when everything appended before this call is durable. All callers waiting at the
    /// same time share the next round. Cancelling abandons the wait, not the sync.
    /// </summary>
    public ValueTask FlushAsync(CancellationToken ct = default)
    {
        TaskCompletionSource round;
        lock (_lock)
        {
            ThrowIfUnusable();
            if (_durableSeq >= _appendSeq)
            {
                return default;
            }
            round = _nextRound ??= new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        }
        try
        {
            _wake.Set();
        }
        catch (ObjectDisposedException)
        {
            // Disposed concurrently: Dispose fails the round, which the caller observes below.
        }
        return new ValueTask(ct.CanBeCanceled ? round.Task.WaitAsync(ct) : round.Task);
    }

    /// <summary>
    /// Makes everything appended before this call durable, running the round on the calling thread
    /// (no hand-off to a flusher and back). For a single appender that batches by itself, such as
    /// the Raft loop: two thread switches cost more than the fdatasync on a fast disk. If a flusher
    /// already took the round, this waits for it. Throws like <see cref="FlushAsync"/> fails.
    /// </summary>
    public void Flush()
    {
        TaskCompletionSource round;
        lock (_lock)
        {
            ThrowIfUnusable();
            if (_durableSeq >= _appendSeq)
            {
                return;
            }
            round = _nextRound ??= new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        }
        FlushRound();
        round.Task.GetAwaiter().GetResult();
    }

    private void FlushLoop()
    {
        while (true)
        {
            _wake.Wait();
            _wake.Reset();
            while (Volatile.Read(ref _nextRound) is not null)
            {
                FlushRound();
            }
            if (_stopping)
            {
                _wake.Set(); // let the other flushers see the stop too
                return;
            }
        }
    }

    /// <summary>
    /// One round: under the lock take the waiters and the target and write the buffer; outside it,
    /// fsync the directory (if a segment was created and not yet synced) and each dirty segment;
    /// then publish in round order and complete the waiters.
    /// </summary>
    private void FlushRound()
    {
        if (_options.MaxGroupCommitDelay is { } delay && delay > TimeSpan.Zero)
        {
            Thread.Sleep(delay);
        }
        TaskCompletionSource? round;
        long target;
        long number;
        long directoryTarget = 0;
        Segment[] dirty = [];
        Exception? error = null;
        lock (_lock)
        {
            round = _nextRound;
            _nextRound = null;
            if (round is null)
            {
                return;
            }
            number = ++_roundsStarted;
            target = _appendSeq;
            if (_failure is not null || _disposed)
            {
                error = _failure ?? new ObjectDisposedException(nameof(RaftLog));
            }
            else
            {
                try
                {
                    WriteBufferLocked();
                    dirty = [.. _dirty];
                    _dirty.Clear();
                    directoryTarget = _directorySynced < _directoryVersion ? _directoryVersion : 0;
                    foreach (var segment in dirty)
                    {
                        var added = false;
                        segment.Handle.DangerousAddRef(ref added);
                    }
                }
                catch (Exception e)
                {
                    error = e;
                    dirty = [];
                }
            }
        }
        if (error is null)
        {
            var current = _directory;
            try
            {
                if (directoryTarget > 0)
                {
                    _io.SyncDirectory(_directory);
                }
                foreach (var segment in dirty)
                {
                    current = segment.Path;
                    _io.SyncData(segment.Handle, segment.Path);
                }
            }
            catch (Exception e)
            {
                lock (_lock)
                {
                    error = Fail(e, $"syncing '{current}'");
                }
            }
        }
        foreach (var segment in dirty)
        {
            segment.Handle.DangerousRelease();
        }
        Publish(number, round, target, directoryTarget, error);
    }

    /// <summary>Completes round <paramref name="number"/> after every earlier round has completed.</summary>
    private void Publish(long number, TaskCompletionSource round, long target, long directoryTarget, Exception? error)
    {
        lock (_publishGate)
        {
            while (_roundsPublished != number - 1)
            {
                Monitor.Wait(_publishGate);
            }
        }
        lock (_lock)
        {
            error ??= _failure; // an earlier round failed: nothing after it may be acknowledged
            if (error is null)
            {
                _durableSeq = Math.Max(_durableSeq, target);
                _directorySynced = Math.Max(_directorySynced, directoryTarget);
            }
        }
        lock (_publishGate)
        {
            _roundsPublished = number;
            Monitor.PulseAll(_publishGate);
        }
        if (error is null)
        {
            Interlocked.Increment(ref _groupCommits);
            round.TrySetResult();
        }
        else
        {
            round.TrySetException(error);
        }
    }

    /// <summary>
    /// Best-effort: writes and syncs what was appended, then releases files. Pending
    /// <see cref="FlushAsync"/> callers complete (durable) or fail; later calls throw <see cref="ObjectDisposedException"/>.
    /// </summary>
    public void Dispose()
    {
        lock (_lock)
        {
            if (_disposed)
            {
                return;
            }
        }
        _stopping = true;
        _wake.Set();
        foreach (var flusher in _flushers)
        {
            if (flusher.IsAlive)
            {
                flusher.Join();
            }
        }
        _spare?.WaitIdle();
        lock (_lock)
        {
            _disposed = true;
            if (_failure is null)
            {
                try
                {
                    WriteBufferLocked();
                    foreach (var segment in _dirty)
                    {
                        _io.SyncData(segment.Handle, segment.Path);
                    }
                    if (_directorySynced < _directoryVersion)
                    {
                        _io.SyncDirectory(_directory);
                    }
                }
                catch (Exception e) when (e is IOException or UnauthorizedAccessException)
                {
                    // Best effort only: what was not acknowledged as durable may be lost, as in a crash.
                }
            }
            _nextRound?.TrySetException(new ObjectDisposedException(nameof(RaftLog)));
            _nextRound = null;
            foreach (var segment in _segments)
            {
                segment.Dispose();
            }
            _segments.Clear();
            _dirty.Clear();
        }
        _wake.Dispose();
    }

    public ValueTask DisposeAsync()
    {
        Dispose();
        return default;
    }
}
