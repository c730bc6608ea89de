namespace HaMaster.Server.Raft;

/// <summary>
/// The Raft loop's wake-up signal: an auto-reset event that blocks at once instead of spinning
/// first, and registers nothing with the cancellation token. The loop wakes ten times a second
/// for its ticks and once per burst of posted work; a <see cref="SemaphoreSlim"/> spun before
/// every one of those waits and registered (and unregistered) a callback on the stopping token
/// each time, which is CPU an idle or lightly loaded master pays for nothing (issue 19).
/// Any number of threads may <see cref="Release"/>; only the loop thread waits.
/// </summary>
internal sealed class LoopWakeup : IDisposable
{
    private readonly object _gate = new();
    private bool _signaled;

    /// <summary>Wakes the waiter (or lets its next wait return at once). Thread-safe.</summary>
    public void Release()
    {
        lock (_gate)
        {
            if (_signaled) return;
            _signaled = true;
            Monitor.Pulse(_gate);
        }
    }

    /// <summary>
    /// Waits until released or <paramref name="millisecondsTimeout"/> passes, and consumes the
    /// signal. Throws <see cref="OperationCanceledException"/> if <paramref name="cancellationToken"/>
    /// is cancelled before or after the wait; whoever cancels it also calls <see cref="Release"/>.
    /// </summary>
    public bool Wait(int millisecondsTimeout, CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        bool signaled;
        lock (_gate)
        {
            if (!_signaled && millisecondsTimeout != 0) Monitor.Wait(_gate, millisecondsTimeout);
            signaled = _signaled;
            _signaled = false;
        }

        cancellationToken.ThrowIfCancellationRequested();
        return signaled;
    }

    public void Dispose()
    {
        // Nothing to release: a monitor holds no OS handle. Kept so the loop's owner disposes it as before.
    }
}
