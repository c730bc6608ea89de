namespace HaMaster.Server.Raft;

/// <summary>
/// Tasks waiting for the state machine to apply an index, released in index order as applying
/// advances. Called only from the Raft loop thread; the tasks complete asynchronously.
/// </summary>
internal sealed class AppliedWaiters
{
    private readonly PriorityQueue<TaskCompletionSource, ulong> _waiters = new();

    /// <summary>Waiters not yet released.</summary>
    public int Count => _waiters.Count;

    /// <summary>A task that completes once <paramref name="index"/> is applied (at once if <paramref name="applied"/> reaches it).</summary>
    public Task WaitFor(ulong index, ulong applied)
    {
        if (applied >= index) return Task.CompletedTask;
        var waiter = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        _waiters.Enqueue(waiter, index);
        return waiter.Task;
    }

    /// <summary>Releases, lowest index first, every waiter at or below <paramref name="applied"/>.</summary>
    public void Release(ulong applied)
    {
        while (_waiters.TryPeek(out var w, out var index) && index <= applied)
        {
            _waiters.Dequeue();
            w.TrySetResult();
        }
    }

    public void FailAll(Exception error)
    {
        while (_waiters.TryDequeue(out var w, out _)) w.TrySetException(error);
    }
}
