namespace HaMaster.Journal;

/// <summary>
/// A configurable <see cref="IStorageFaults"/>: persistent errors per operation kind, a byte
/// budget after which writes tear (simulated crash), and tracking of unsynced writes so that
/// <see cref="LoseUnsyncedWrites"/> can zero them as a power cut would. Thread-safe.
/// </summary>
internal sealed class StorageFaultInjector : IStorageFaults
{
    private readonly Lock _gate = new();
    private readonly Dictionary<string, List<(long Offset, int Length, long Seq)>> _unsynced = new(StringComparer.Ordinal);
    private readonly Dictionary<(string Path, int Thread), long> _syncMarks = [];
    private long _bytesWritten;
    private long _writeSeq;

    /// <summary>Only paths accepted by this predicate are affected (default: all).</summary>
    public Func<string, bool> PathFilter { get; set; } = static _ => true;

    /// <summary>Thrown by every write while set.</summary>
    public Exception? WriteError { get; set; }

    /// <summary>Thrown by every sync while set.</summary>
    public Exception? SyncError { get; set; }

    /// <summary>Thrown by every create while set.</summary>
    public Exception? CreateError { get; set; }

    /// <summary>Thrown by every rename while set.</summary>
    public Exception? RenameError { get; set; }

    /// <summary>
    /// When set, writes beyond this many bytes (counted from when it was set) tear: the write is cut
    /// at the budget, and it and every later operation throws <see cref="SimulatedCrashException"/>.
    /// </summary>
    public long? CrashAfterBytes
    {
        get;
        set
        {
            lock (_gate)
            {
                field = value;
                _bytesWritten = 0;
            }
        }
    }

    /// <summary>True once a simulated crash happened; every operation then throws.</summary>
    public bool Crashed { get; private set; }

    /// <summary>Declare the process dead now: every later operation throws <see cref="SimulatedCrashException"/>.</summary>
    public void Crash() => Crashed = true;

    /// <summary>An <see cref="IOException"/> as the OS reports a full disk (ENOSPC).</summary>
    public static IOException DiskFull() => new("No space left on device (ENOSPC)", 28);

    /// <summary>An <see cref="UnauthorizedAccessException"/> as the OS reports EACCES.</summary>
    public static UnauthorizedAccessException PermissionDenied() => new("Permission denied (EACCES)");

    /// <summary>An <see cref="IOException"/> as the OS reports a failed device (EIO).</summary>
    public static IOException InputOutputError() => new("Input/output error (EIO)", 5);

    public int BeforeWrite(string path, long offset, int length)
    {
        if (!PathFilter(path))
        {
            return length;
        }
        ThrowIfCrashed();
        if (WriteError is { } e)
        {
            throw e;
        }
        lock (_gate)
        {
            if (CrashAfterBytes is { } budget)
            {
                var allowed = budget - _bytesWritten;
                if (allowed < length)
                {
                    Crashed = true;
                    var part = (int)Math.Max(0, allowed);
                    if (part > 0)
                    {
                        Track(path, offset, part);
                    }
                    return part;
                }
                _bytesWritten += length;
            }
        }
        return length;
    }

    public void AfterWrite(string path, long offset, int length)
    {
        if (PathFilter(path))
        {
            lock (_gate)
            {
                Track(path, offset, length);
            }
        }
    }

    public void BeforeSync(string path)
    {
        if (!PathFilter(path))
        {
            return;
        }
        ThrowIfCrashed();
        if (SyncError is { } e)
        {
            throw e;
        }
        lock (_gate)
        {
            // A sync covers only writes that completed before it started (syncs may overlap).
            _syncMarks[(path, Environment.CurrentManagedThreadId)] = _writeSeq;
        }
    }

    public void AfterSync(string path)
    {
        lock (_gate)
        {
            if (_syncMarks.Remove((path, Environment.CurrentManagedThreadId), out var mark) && _unsynced.TryGetValue(path, out var list))
            {
                list.RemoveAll(r => r.Seq <= mark);
            }
        }
    }

    public void BeforeCreate(string path)
    {
        if (!PathFilter(path))
        {
            return;
        }
        ThrowIfCrashed();
        if (CreateError is { } e)
        {
            throw e;
        }
    }

    public void BeforeRename(string source, string destination)
    {
        if (!PathFilter(source))
        {
            return;
        }
        ThrowIfCrashed();
        if (RenameError is { } e)
        {
            throw e;
        }
    }

    /// <summary>
    /// Overwrites with zeros every region written since the file's last sync, as if the machine
    /// lost power (call after the component under test was abandoned). Returns the regions lost.
    /// </summary>
    public int LoseUnsyncedWrites()
    {
        List<(string Path, long Offset, int Length)> regions;
        lock (_gate)
        {
            regions = [.. _unsynced.SelectMany(kv => kv.Value.Select(r => (kv.Key, r.Offset, r.Length)))];
            _unsynced.Clear();
            _syncMarks.Clear();
        }
        var zeros = new byte[64 << 10];
        foreach (var (path, offset, length) in regions)
        {
            if (!File.Exists(path))
            {
                continue;
            }
            using var handle = File.OpenHandle(path, FileMode.Open, FileAccess.ReadWrite, FileShare.ReadWrite);
            var end = Math.Min(offset + length, RandomAccess.GetLength(handle));
            for (var at = offset; at < end; at += zeros.Length)
            {
                RandomAccess.Write(handle, zeros.AsSpan(0, (int)Math.Min(zeros.Length, end - at)), at);
            }
        }
        return regions.Count;
    }

    private void Track(string path, long offset, int length)
    {
        if (!_unsynced.TryGetValue(path, out var list))
        {
            _unsynced[path] = list = [];
        }
        list.Add((offset, length, ++_writeSeq));
    }

    private void ThrowIfCrashed()
    {
        if (Crashed)
        {
            throw new SimulatedCrashException("simulated crash: the storage is gone");
        }
    }
}
