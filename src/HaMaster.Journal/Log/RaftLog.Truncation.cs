namespace HaMaster.Journal;

/// <summary>Suffix truncation, prefix compaction and reset to a snapshot.</summary>
public sealed partial class RaftLog
{
    /// <summary>
    /// Drops entries [<paramref name="fromIndex"/>, LastIndex]; durable before return (later segments are
    /// deleted first, then the cut segment's tail is zeroed and synced, so a crash in between leaves a
    /// consistent, merely longer log). Cannot cut at or below <see cref="SnapshotIndex"/>.
    /// </summary>
    public void TruncateSuffix(ulong fromIndex)
    {
        lock (_lock)
        {
            ThrowIfUnusable();
            TruncateSuffixLocked(fromIndex);
        }
    }

    private void TruncateSuffixLocked(ulong fromIndex)
    {
        if (fromIndex > LastIndexLocked)
        {
            return;
        }
        if (fromIndex <= _snapshotIndex)
        {
            throw new InvalidOperationException($"Cannot truncate from index {fromIndex}: entries up to {_snapshotIndex} are covered by a snapshot (committed).");
        }
        WriteBufferLocked();
        var keep = FindSegment(fromIndex);
        var deleted = false;
        try
        {
            while (!ReferenceEquals(Active, keep))
            {
                var doomed = Active;
                _segments.RemoveAt(_segments.Count - 1);
                _dirty.Remove(doomed);
                doomed.Dispose();
                File.Delete(doomed.Path);
                deleted = true;
            }
            if (deleted)
            {
                _io.SyncDirectory(_directory);
            }
            var cut = keep.OffsetOf(fromIndex);
            ZeroRange(keep, cut, keep.EndOffset);
            _io.SyncData(keep.Handle, keep.Path);
            keep.TruncateFrom(fromIndex);
            _bufferFileOffset = keep.EndOffset;
        }
        catch (Exception e) when (e is not JournalFailedException)
        {
            throw Fail(e, $"truncating the log from index {fromIndex}");
        }
    }

    /// <summary>
    /// Entries up to <paramref name="throughIndex"/> are covered by a snapshot whose last entry has
    /// <paramref name="throughTerm"/>: records the boundary durably, then deletes whole segments that
    /// hold only covered entries (the active segment is always kept). If the boundary lies beyond the
    /// log, this is <see cref="ResetToSnapshot"/>. A boundary at or below the current one is ignored.
    /// </summary>
    public void CompactPrefix(ulong throughIndex, ulong throughTerm)
    {
        lock (_lock)
        {
            ThrowIfUnusable();
            if (throughIndex <= _snapshotIndex)
            {
                return;
            }
            if (throughIndex > LastIndexLocked)
            {
                ResetToSnapshotLocked(throughIndex, throughTerm);
                return;
            }
            var actual = FindSegment(throughIndex).TermAt(throughIndex);
            if (actual != throughTerm)
            {
                throw new InvalidOperationException($"CompactPrefix({throughIndex}, term {throughTerm}): the log has term {actual} at that index; the snapshot does not match the log.");
            }
            var firstKept = _segments.Count - 1;
            while (firstKept > 0 && _segments[firstKept - 1].LastIndex > throughIndex)
            {
                firstKept--;
            }
            // Segment firstKept-1 and earlier hold only entries <= throughIndex.
            try
            {
                WriteBufferLocked();
                var minLive = _segments[firstKept].Seq;
                LogBoundaryFile.Write(_io, _directory, new LogBoundaryFile.Boundary(throughIndex, throughTerm, minLive));
                _snapshotIndex = throughIndex;
                _snapshotTerm = throughTerm;
                _minLiveSeq = minLive;
                DeleteSegmentsBelowLocked(minLive);
            }
            catch (Exception e) when (e is not JournalFailedException)
            {
                throw Fail(e, $"compacting the log through index {throughIndex}");
            }
        }
    }

    /// <summary>
    /// A follower installed a snapshot beyond (or conflicting with) its log: drops every entry and
    /// continues after <paramref name="index"/>. The boundary is recorded durably before any file is deleted.
    /// </summary>
    public void ResetToSnapshot(ulong index, ulong term)
    {
        lock (_lock)
        {
            ThrowIfUnusable();
            ResetToSnapshotLocked(index, term);
        }
    }

    private void ResetToSnapshotLocked(ulong index, ulong term)
    {
        try
        {
            WriteBufferLocked();
            var seq = Active.Seq + 1;
            LogBoundaryFile.Write(_io, _directory, new LogBoundaryFile.Boundary(index, term, seq));
            _snapshotIndex = index;
            _snapshotTerm = term;
            _minLiveSeq = seq;
            DeleteSegmentsBelowLocked(seq);
            CreateSegmentLocked(seq, index + 1);
            WriteBufferLocked();
            _io.SyncData(Active.Handle, Active.Path);
            _io.SyncDirectory(_directory);
            _dirty.Remove(Active);
            _directorySynced = _directoryVersion;
            _appendSeq++;
            _durableSeq = _appendSeq;
        }
        catch (Exception e) when (e is not JournalFailedException)
        {
            throw Fail(e, $"resetting the log to the snapshot at index {index}");
        }
    }

    private void DeleteSegmentsBelowLocked(long minLiveSeq)
    {
        var removed = 0;
        while (_segments.Count > 0 && _segments[0].Seq < minLiveSeq)
        {
            var doomed = _segments[0];
            _segments.RemoveAt(0);
            _dirty.Remove(doomed);
            doomed.Dispose();
            File.Delete(doomed.Path);
            removed++;
        }
        if (removed > 0)
        {
            _io.SyncDirectory(_directory);
        }
    }

    private void ZeroRange(Segment segment, long from, long to)
    {
        if (to <= from)
        {
            return;
        }
        var zeros = new byte[(int)Math.Min(to - from, 256 << 10)];
        for (var at = from; at < to; at += zeros.Length)
        {
            _io.Write(segment.Handle, segment.Path, zeros.AsSpan(0, (int)Math.Min(zeros.Length, to - at)), at);
        }
    }
}
