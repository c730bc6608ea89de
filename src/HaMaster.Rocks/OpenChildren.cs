namespace HaMaster.Rocks;

/// <summary>
/// The iterators and snapshots open on one <see cref="RocksDb"/>, so that disposing the database
/// disposes them too (each holds a lease that would otherwise keep the native database open).
/// Thread-safe: children open and close on any thread while the database is being disposed.
/// </summary>
internal sealed class OpenChildren
{
    private readonly Lock _gate = new();
    private readonly HashSet<IDisposable> _children = [];
    private bool _closed;

    /// <summary>Tracks <paramref name="child"/>; false (nothing tracked) once <see cref="Close"/> ran.</summary>
    public bool TryAdd(IDisposable child)
    {
        lock (_gate)
        {
            return !_closed && _children.Add(child);
        }
    }

    /// <summary>Stops tracking a child its owner disposed.</summary>
    public void Remove(IDisposable child)
    {
        lock (_gate)
        {
            _children.Remove(child);
        }
    }

    /// <summary>Closes the set: the children still open, for the caller to dispose; null when it was already closed.</summary>
    public IDisposable[]? Close()
    {
        lock (_gate)
        {
            if (_closed)
            {
                return null;
            }

            _closed = true;
            IDisposable[] open = [.. _children];
            _children.Clear();
            return open;
        }
    }
}
