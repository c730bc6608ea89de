using Microsoft.Win32.SafeHandles;

namespace HaMaster.Journal;

/// <summary>
/// The next segment, zero-filled and synced in the background (<c>next.spare</c>) and renamed into
/// place when the log rolls. fallocate alone leaves "unwritten" extents, and the first write into
/// each block makes fdatasync commit a metadata (extent) change; blocks that were really written
/// with zeros need no metadata update, so fdatasync only flushes data. The spare is not part of
/// the log: recovery ignores it, and its preparation bypasses fault injection.
/// </summary>
/// <remarks>Thread-safe: <see cref="StartPreparing"/> and <see cref="TryTakeAs"/> are called under the log's lock; preparation runs on the thread pool.</remarks>
internal sealed class SpareSegment
{
    public const string FileName = "next.spare";
    private readonly StorageIo _io;
    private readonly string _path;
    private readonly long _bytes;
    private Task? _preparing;
    private volatile bool _ready;

    public SpareSegment(string directory, long bytes, bool fsync)
    {
        _io = new StorageIo(null, fsync);
        _path = Path.Combine(directory, FileName);
        _bytes = bytes;
        _ready = File.Exists(_path) && new FileInfo(_path).Length == bytes;
        if (!_ready && File.Exists(_path))
        {
            File.Delete(_path);
        }
    }

    /// <summary>Starts zero-filling a spare unless one is ready or being prepared.</summary>
    public void StartPreparing()
    {
        if (_ready || _preparing is { IsCompleted: false })
        {
            return;
        }
        _preparing = Task.Run(Prepare);
    }

    /// <summary>Renames the ready spare to <paramref name="destination"/>; false if none is ready (the caller falls back to fallocate).
    /// A preparation under way is waited for up to <paramref name="wait"/>: a fallocated segment has "unwritten" extents and
    /// makes every fdatasync until the next roll journal metadata (several ms each on this kind of disk).</summary>
    public bool TryTakeAs(string destination, TimeSpan wait = default)
    {
        if (!_ready && wait > TimeSpan.Zero && _preparing is { IsCompleted: false } preparing)
        {
            try
            {
                preparing.Wait(wait);
            }
            catch (AggregateException)
            {
                // preparation failed: fall back to fallocate
            }
        }

        if (!_ready)
        {
            return false;
        }
        _ready = false;
        try
        {
            File.Move(_path, destination, overwrite: false);
            return true;
        }
        catch (IOException)
        {
            return false;
        }
    }

    /// <summary>Waits for a running preparation (used by Dispose, so no file is written after the log closed).</summary>
    public void WaitIdle()
    {
        try
        {
            _preparing?.Wait();
        }
        catch (AggregateException)
        {
            // Preparation failures only mean the next roll falls back to fallocate.
        }
    }

    private void Prepare()
    {
        var temporary = _path + ".tmp";
        try
        {
            File.Delete(temporary);
            using (SafeFileHandle handle = _io.Create(temporary, _bytes))
            {
                var zeros = new byte[1 << 20];
                for (long at = 0; at < _bytes; at += zeros.Length)
                {
                    _io.Write(handle, temporary, zeros.AsSpan(0, (int)Math.Min(zeros.Length, _bytes - at)), at);
                }
                _io.SyncData(handle, temporary);
            }
            File.Move(temporary, _path, overwrite: true);
            _ready = true;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            try
            {
                File.Delete(temporary);
            }
            catch (IOException)
            {
            }
        }
    }
}
