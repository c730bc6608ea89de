namespace HaMaster.Journal;

/// <summary>
/// The durable Raft log: rolling segment files of framed, checksummed records, an in-memory index
/// per segment, group commit (one write and one fdatasync for everything appended by all callers),
/// suffix truncation, prefix compaction behind a snapshot, and crash recovery on <see cref="Open(RaftLogOptions)"/>.
/// </summary>
/// <remarks>
/// Concurrency contract: every member is thread-safe. State is guarded by one lock; appends copy
/// records into a write buffer under it; a dedicated flusher thread writes the buffer and runs
/// fdatasync outside the lock, so appenders keep filling the next batch while a sync is in flight.
/// <see cref="Append"/> is not durable; <see cref="FlushAsync"/> completes when everything appended
/// before the call is durable. After any write or sync failure the log is failed: every call throws
/// <see cref="JournalFailedException"/> until the log is reopened (recovery drops the unsynced tail).
/// </remarks>
public sealed partial class RaftLog : IAsyncDisposable, IDisposable
{
    private readonly Lock _lock = new();
    private readonly RaftLogOptions _options;
    private readonly StorageIo _io;
    private readonly string _directory;
    private readonly List<Segment> _segments = [];
    private readonly HashSet<Segment> _dirty = [];
    private byte[] _buffer;
    private int _bufferLength;
    private long _bufferFileOffset;
    private ulong _snapshotIndex;
    private ulong _snapshotTerm;
    private long _minLiveSeq;
    private long _directoryVersion;
    private long _directorySynced;
    private Exception? _failure;
    private SpareSegment? _spare;
    private bool _disposed;

    private RaftLog(RaftLogOptions options, IStorageFaults? faults)
    {
        _options = options;
        _directory = Path.GetFullPath(options.Directory);
        _io = new StorageIo(faults, options.Fsync);
        _buffer = new byte[options.WriteBufferBytes];
        _flushers = [.. Enumerable.Range(0, options.MaxConcurrentSyncs).Select(i => new Thread(FlushLoop) { IsBackground = true, Name = $"raft-log-flusher-{i}" })];
        Recovery = null!;
    }

    /// <summary>What recovery found and repaired when the log was opened.</summary>
    public RecoveryReport Recovery { get; private set; }

    /// <summary>The log's directory (absolute).</summary>
    public string Directory => _directory;

    /// <summary>First readable index: <see cref="SnapshotIndex"/> + 1 (1 for a log never compacted).</summary>
    public ulong FirstIndex
    {
        get
        {
            lock (_lock)
            {
                return _snapshotIndex + 1;
            }
        }
    }

    /// <summary>Last index appended (durable or not); <see cref="SnapshotIndex"/> when no entry follows the boundary.</summary>
    public ulong LastIndex
    {
        get
        {
            lock (_lock)
            {
                return LastIndexLocked;
            }
        }
    }

    /// <summary>Index of the last entry covered by the snapshot (0 if none).</summary>
    public ulong SnapshotIndex
    {
        get
        {
            lock (_lock)
            {
                return _snapshotIndex;
            }
        }
    }

    /// <summary>Term of the entry at <see cref="SnapshotIndex"/>; <c>Term(SnapshotIndex)</c> answers it.</summary>
    public ulong SnapshotTerm
    {
        get
        {
            lock (_lock)
            {
                return _snapshotTerm;
            }
        }
    }

    /// <summary>Term of the last entry (or of the snapshot boundary if the log is empty after it).</summary>
    public ulong LastTerm
    {
        get
        {
            lock (_lock)
            {
                var last = LastIndexLocked;
                return last == _snapshotIndex ? _snapshotTerm : FindSegment(last).TermAt(last);
            }
        }
    }

    /// <summary>Number of fsync/fdatasync calls issued so far (files and directories).</summary>
    public long FsyncCount => _io.SyncCount;

    private Segment Active => _segments[^1];

    private ulong LastIndexLocked => Active.FirstIndex + (ulong)Active.Count - 1;

    /// <summary>Term of the entry at <paramref name="index"/>; throws <see cref="LogIndexUnavailableException"/> if compacted or beyond the end.</summary>
    public ulong Term(ulong index)
    {
        var status = TryGetTerm(index, out var term);
        return status == TermLookup.Found
            ? term
            : throw new LogIndexUnavailableException(
                status == TermLookup.Compacted
                    ? $"Term({index}) is unavailable: compacted behind the snapshot at index {SnapshotIndex}."
                    : $"Term({index}) is unavailable: the log ends at index {LastIndex}.",
                index,
                status);
    }

    /// <summary>Term lookup without exceptions: <see cref="TermLookup.Found"/> for [SnapshotIndex, LastIndex].</summary>
    public TermLookup TryGetTerm(ulong index, out ulong term)
    {
        lock (_lock)
        {
            term = 0;
            if (index == _snapshotIndex)
            {
                term = _snapshotTerm;
                return TermLookup.Found;
            }
            if (index < _snapshotIndex)
            {
                return TermLookup.Compacted;
            }
            if (index > LastIndexLocked)
            {
                return TermLookup.Unavailable;
            }
            term = FindSegment(index).TermAt(index);
            return TermLookup.Found;
        }
    }

    /// <summary>
    /// Appends records in order (contiguous indexes, non-decreasing terms). Leading records already
    /// present with the same term are skipped; from the first conflicting one, the existing suffix is
    /// truncated first (Raft semantics). Records at or below <see cref="SnapshotIndex"/> are ignored.
    /// Not durable until <see cref="FlushAsync"/> completes.
    /// </summary>
    public void Append(IReadOnlyList<LogRecord> records)
    {
        ArgumentNullException.ThrowIfNull(records);
        lock (_lock)
        {
            AppendLocked(records);
        }
    }

    /// <summary>Appends and completes when the records (and everything appended before) are durable; concurrent callers share one write and one fdatasync.</summary>
    public ValueTask AppendAndFlushAsync(IReadOnlyList<LogRecord> records, CancellationToken ct = default)
    {
        Append(records);
        return FlushAsync(ct);
    }

    /// <summary>
    /// Appends one entry at <see cref="LastIndex"/> + 1 (assigned under the log's lock, so many
    /// concurrent proposers never race for an index) and completes with that index once durable.
    /// </summary>
    public async ValueTask<ulong> AppendNextAndFlushAsync(ulong term, byte kind, ReadOnlyMemory<byte> payload, CancellationToken ct = default)
    {
        ulong index;
        lock (_lock)
        {
            ThrowIfUnusable();
            index = LastIndexLocked + 1;
            var record = new LogRecord(index, term, kind, payload);
            CheckTermOrder(record, LastIndexLocked);
            AppendOneLocked(record);
            _appendSeq++;
        }
        await FlushAsync(ct).ConfigureAwait(false);
        return index;
    }

    private void AppendLocked(IReadOnlyList<LogRecord> records)
    {
        ThrowIfUnusable();
        var n = records.Count;
        if (n == 0)
        {
            return;
        }
        for (var i = 0; i < n; i++)
        {
            if (records[i].Payload.Length > _options.MaxPayloadBytes)
            {
                throw new ArgumentException($"Record {records[i].Index} has a {records[i].Payload.Length}-byte payload; the limit is {_options.MaxPayloadBytes} (RaftLogOptions.MaxPayloadBytes).", nameof(records));
            }
        }
        for (var i = 1; i < n; i++)
        {
            if (records[i].Index != records[i - 1].Index + 1)
            {
                throw new ArgumentException($"Records must have contiguous indexes: {records[i - 1].Index} is followed by {records[i].Index}.", nameof(records));
            }
            if (records[i].Term < records[i - 1].Term)
            {
                throw new ArgumentException($"Record terms must not decrease: index {records[i].Index} has term {records[i].Term} after term {records[i - 1].Term}.", nameof(records));
            }
        }
        var start = 0;
        while (start < n && records[start].Index <= LastIndexLocked)
        {
            var index = records[start].Index;
            if (index <= _snapshotIndex || FindSegment(index).TermAt(index) == records[start].Term)
            {
                start++;
                continue;
            }
            TruncateSuffixLocked(index);
            break;
        }
        if (start == n)
        {
            return;
        }
        var first = records[start];
        if (first.Index != LastIndexLocked + 1)
        {
            throw new InvalidOperationException($"Append would leave a gap: the log ends at index {LastIndexLocked} but the records start at {first.Index}.");
        }
        CheckTermOrder(first, LastIndexLocked);
        for (var i = start; i < n; i++)
        {
            AppendOneLocked(records[i]);
        }
        _appendSeq++;
    }

    private void CheckTermOrder(in LogRecord record, ulong previousIndex)
    {
        var previousTerm = previousIndex == _snapshotIndex ? _snapshotTerm : FindSegment(previousIndex).TermAt(previousIndex);
        if (record.Term < previousTerm)
        {
            throw new ArgumentException($"Record {record.Index} has term {record.Term}, lower than the term {previousTerm} of the entry before it.");
        }
    }

    private void AppendOneLocked(in LogRecord record)
    {
        if (record.Payload.Length > _options.MaxPayloadBytes)
        {
            throw new ArgumentException($"Record {record.Index} has a {record.Payload.Length}-byte payload; the limit is {_options.MaxPayloadBytes} (RaftLogOptions.MaxPayloadBytes).");
        }
        var size = RecordFormat.EncodedSize(record.Payload.Length);
        if (Active.Count > 0 && Active.EndOffset + size > _options.SegmentBytes)
        {
            RollLocked(record.Index);
        }
        if (_bufferLength > 0 && _bufferLength + size > _buffer.Length)
        {
            WriteBufferLocked();
        }
        if (size > _buffer.Length)
        {
            _buffer = new byte[size];
        }
        var segment = Active;
        RecordFormat.Encode(_buffer.AsSpan(_bufferLength, size), record);
        segment.Add(segment.EndOffset, record.Term, size);
        _bufferLength += size;
        if (_bufferLength >= _options.WriteBufferBytes)
        {
            WriteBufferLocked();
        }
    }

    /// <summary>Writes buffered bytes of the active segment to the OS (no sync) and marks it dirty.</summary>
    private void WriteBufferLocked()
    {
        if (_bufferLength == 0)
        {
            return;
        }
        var segment = Active;
        try
        {
            _io.Write(segment.Handle, segment.Path, _buffer.AsSpan(0, _bufferLength), _bufferFileOffset);
        }
        catch (Exception e)
        {
            throw Fail(e, $"writing {_bufferLength} bytes to '{segment.Path}' at offset {_bufferFileOffset}");
        }
        _bufferFileOffset += _bufferLength;
        _bufferLength = 0;
        _dirty.Add(segment);
        if (_buffer.Length > 2 * _options.WriteBufferBytes)
        {
            _buffer = new byte[_options.WriteBufferBytes];
        }
    }

    /// <summary>
    /// Closes the active segment (written and synced, so only the last segment can ever hold a torn
    /// tail) and starts a new one whose first entry will be <paramref name="nextIndex"/>.
    /// </summary>
    private void RollLocked(ulong nextIndex)
    {
        WriteBufferLocked();
        var old = Active;
        try
        {
            _io.SyncData(old.Handle, old.Path);
        }
        catch (Exception e)
        {
            throw Fail(e, $"syncing '{old.Path}' before rolling to a new segment");
        }
        _dirty.Remove(old);
        CreateSegmentLocked(old.Seq + 1, nextIndex);
    }

    /// <summary>Creates a preallocated segment and makes it active; its header goes out with the next write.</summary>
    private void CreateSegmentLocked(long seq, ulong firstIndex)
    {
        var path = Path.Combine(_directory, RecordFormat.SegmentFileName(seq, firstIndex));
        Microsoft.Win32.SafeHandles.SafeFileHandle handle;
        try
        {
            if (_spare?.TryTakeAs(path, TimeSpan.FromSeconds(10)) == true)
            {
                handle = File.OpenHandle(path, FileMode.Open, FileAccess.ReadWrite, FileShare.Read);
            }
            else
            {
                handle = _io.Create(path, _options.PreallocateSegments ? _options.SegmentBytes : 0);
                if (_options.PreallocateSegments && RandomAccess.GetLength(handle) < _options.SegmentBytes)
                {
                    RandomAccess.SetLength(handle, _options.SegmentBytes);
                }
            }
            _spare?.StartPreparing();
        }
        catch (Exception e)
        {
            TryDelete(path);
            throw Fail(e, $"creating segment '{path}' ({_options.SegmentBytes} bytes preallocated)");
        }
        _segments.Add(new Segment(path, seq, firstIndex, handle));
        _directoryVersion++;
        RecordFormat.EncodeSegmentHeader(_buffer, seq, firstIndex);
        _bufferLength = RecordFormat.SegmentHeaderBytes;
        _bufferFileOffset = 0;
    }

    private Segment FindSegment(ulong index)
    {
        int lo = 0, hi = _segments.Count - 1;
        while (lo < hi)
        {
            var mid = (lo + hi + 1) / 2;
            if (_segments[mid].FirstIndex <= index)
            {
                lo = mid;
            }
            else
            {
                hi = mid - 1;
            }
        }
        var segment = _segments[lo];
        return segment.Contains(index)
            ? segment
            : throw new InvalidOperationException($"Index {index} is not in any segment (log holds [{_segments[0].FirstIndex}, {LastIndexLocked}]).");
    }

    private void ThrowIfUnusable()
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (_failure is { } failure)
        {
            throw new JournalFailedException($"The Raft log in '{_directory}' failed earlier and must be reopened: {failure.Message}", failure);
        }
    }

    /// <summary>Marks the log failed (see the class remarks) and returns the exception to throw.</summary>
    private JournalFailedException Fail(Exception cause, string operation)
    {
        if (cause is JournalFailedException already)
        {
            return already;
        }
        var failure = new JournalFailedException(
            $"Raft log I/O failed while {operation}: {cause.Message}. Nothing acknowledged as durable is affected; the log refuses further writes until it is reopened " +
            "(recovery drops any unsynced tail). If the disk is full, free space; if permission was denied, fix the ownership of the journal directory; then restart the node.",
            cause);
        _failure ??= failure;
        return failure;
    }

    private JournalCorruptedException Corrupted(string path, long offset, string what) => new(
        $"Raft log corrupted: {what} in '{path}' at byte offset {offset}. The journal refuses to start rather than skip data. Operator options: " +
        $"(1) if the other masters are healthy, stop this node, move '{_directory}' aside and restart it empty so it re-replicates from the leader (or a snapshot); " +
        "(2) restore the directory from a backup; (3) if you accept losing every entry from this point on and the node can re-fetch them from the leader, " +
        "restart with RaftLogOptions.TruncateAfterCorruption = true.",
        path,
        offset);

    private static void TryDelete(string path)
    {
        try
        {
            File.Delete(path);
        }
        catch (IOException)
        {
        }
        catch (UnauthorizedAccessException)
        {
        }
    }
}
