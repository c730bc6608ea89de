using System.Buffers.Binary;
using System.Diagnostics;

namespace HaMaster.Journal;

/// <summary>Opening and crash recovery.</summary>
public sealed partial class RaftLog
{
    /// <summary>
    /// Opens (or creates) the log in <see cref="RaftLogOptions.Directory"/> and recovers it: finishes
    /// an interrupted compaction, rebuilds the per-segment index, truncates a torn final record (or
    /// unsynced garbage after the end) and reports it in <see cref="Recovery"/>. A damaged record in
    /// the middle of the log throws <see cref="JournalCorruptedException"/> naming file and offset.
    /// </summary>
    public static RaftLog Open(RaftLogOptions options) => Open(options, faults: null);

    /// <summary>As <see cref="Open(RaftLogOptions)"/>, with every file operation going through <paramref name="faults"/> (tests and simulation).</summary>
    internal static RaftLog Open(RaftLogOptions options, IStorageFaults? faults)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        var log = new RaftLog(options, faults);
        try
        {
            log.Recover();
        }
        catch
        {
            foreach (var segment in log._segments)
            {
                segment.Dispose();
            }
            log._wake.Dispose();
            throw;
        }
        if (options.PreallocateSegments && options.ZeroFillSegments)
        {
            log._spare = new SpareSegment(log._directory, options.SegmentBytes, options.Fsync);
            log._spare.StartPreparing();
        }
        foreach (var flusher in log._flushers)
        {
            flusher.Start();
        }
        return log;
    }

    private sealed class RecoveryNotes
    {
        public bool Repaired;
        public string? File;
        public long Offset;
        public long Discarded;
        public string? Detail;
        public long Records;
    }

    private void Recover()
    {
        var clock = Stopwatch.StartNew();
        _io.CreateDirectory(_directory);
        var boundary = LogBoundaryFile.Read(_directory);
        _snapshotIndex = boundary.SnapshotIndex;
        _snapshotTerm = boundary.SnapshotTerm;
        _minLiveSeq = boundary.MinLiveSeq;
        foreach (var tmp in System.IO.Directory.GetFiles(_directory, "*.tmp"))
        {
            File.Delete(tmp);
        }
        var files = new List<(string Path, long Seq, ulong First)>();
        foreach (var path in System.IO.Directory.GetFiles(_directory, "*.seg"))
        {
            if (RecordFormat.TryParseSegmentFileName(Path.GetFileName(path), out var seq, out var first))
            {
                files.Add((path, seq, first));
            }
        }
        files.Sort((a, b) => a.Seq.CompareTo(b.Seq));
        var directoryChanged = false;
        while (files.Count > 0 && files[0].Seq < _minLiveSeq)
        {
            // An interrupted compaction or reset: the boundary was recorded, deletion had not finished.
            File.Delete(files[0].Path);
            files.RemoveAt(0);
            directoryChanged = true;
        }

        var notes = new RecoveryNotes();
        byte[] scratch = [];
        ulong? expected = null;
        for (var i = 0; i < files.Count; i++)
        {
            var (path, seq, first) = files[i];
            var isLast = i == files.Count - 1;
            var handle = File.OpenHandle(path, FileMode.Open, FileAccess.ReadWrite, FileShare.Read);
            Segment? segment = null;
            try
            {
                var length = RandomAccess.GetLength(handle);
                if (length > int.MaxValue)
                {
                    throw Corrupted(path, int.MaxValue, "segment file larger than 2 GiB");
                }
                if (scratch.Length < length)
                {
                    scratch = GC.AllocateUninitializedArray<byte>((int)length);
                }
                var data = scratch.AsSpan(0, (int)length);
                ReadFully(handle, data);
                if (!RecordFormat.TryDecodeSegmentHeader(data, out var headerSeq, out var headerFirst) || headerSeq != seq || headerFirst != first)
                {
                    var headerBytes = data[..Math.Min(data.Length, RecordFormat.SegmentHeaderBytes)];
                    if (isLast && !headerBytes.ContainsAnyExcept((byte)0))
                    {
                        // Created just before a crash; its header never reached the disk. Nothing in it was acknowledged.
                        handle.Dispose();
                        File.Delete(path);
                        directoryChanged = true;
                        notes.Detail = $"removed segment '{path}' whose header was never written (crash right after it was created)";
                        continue;
                    }
                    throw Corrupted(path, 0, "segment header damaged or not matching the file name");
                }
                if (expected is { } e && first != e)
                {
                    throw Corrupted(path, 0, $"segment starts at index {first} but the previous segment ends at index {e - 1} (entries missing)");
                }
                if (expected is null && first > _snapshotIndex + 1)
                {
                    throw Corrupted(path, 0, $"the oldest segment starts at index {first} but the snapshot boundary is {_snapshotIndex} (entries missing)");
                }
                segment = new Segment(path, seq, first, handle);
                ScanSegment(segment, data, isLast, notes);
                expected = segment.FirstIndex + (ulong)segment.Count;
                _segments.Add(segment);
            }
            catch
            {
                if (segment is null)
                {
                    handle.Dispose();
                }
                else
                {
                    segment.Dispose();
                }
                throw;
            }
        }

        if (_segments.Count > 0 && LastIndexLocked < _snapshotIndex)
        {
            // The log ends before the snapshot boundary (only possible if its tail was damaged): the
            // snapshot covers everything, so start afresh after it.
            notes.Detail = $"log ended at {LastIndexLocked}, before the snapshot boundary {_snapshotIndex}; restarted after the boundary";
            var seq = Active.Seq + 1;
            LogBoundaryFile.Write(_io, _directory, new LogBoundaryFile.Boundary(_snapshotIndex, _snapshotTerm, seq));
            _minLiveSeq = seq;
            DeleteSegmentsBelowLocked(seq);
        }
        if (_segments.Count == 0)
        {
            var seq = Math.Max(_minLiveSeq, files.Count > 0 ? files[^1].Seq + 1 : 1);
            CreateSegmentLocked(seq, Math.Max(_snapshotIndex + 1, expected ?? 0));
            WriteBufferLocked();
            _io.SyncData(Active.Handle, Active.Path);
            _dirty.Remove(Active);
            directoryChanged = true;
        }
        else
        {
            _bufferFileOffset = Active.EndOffset;
        }
        if (directoryChanged || _directorySynced < _directoryVersion)
        {
            _io.SyncDirectory(_directory);
            _directorySynced = _directoryVersion;
        }
        Recovery = new RecoveryReport(
            files.Count,
            notes.Records,
            _snapshotIndex + 1,
            LastIndexLocked,
            notes.Repaired,
            notes.File,
            notes.Offset,
            notes.Discarded,
            notes.Detail,
            clock.Elapsed);
    }

    /// <summary>Indexes the records of one segment; repairs a torn tail of the last segment, refuses damage elsewhere.</summary>
    private void ScanSegment(Segment segment, ReadOnlySpan<byte> data, bool isLast, RecoveryNotes notes)
    {
        long offset = RecordFormat.SegmentHeaderBytes;
        var index = segment.FirstIndex;
        string? problem = null;
        while (true)
        {
            if (offset + RecordFormat.RecordHeaderBytes > data.Length)
            {
                if (offset < data.Length && data[(int)offset..].ContainsAnyExcept((byte)0))
                {
                    problem = "incomplete record header at the end of the file";
                }
                break;
            }
            var headerBytes = data.Slice((int)offset, RecordFormat.RecordHeaderBytes);
            if (!headerBytes.ContainsAnyExcept((byte)0))
            {
                break; // zero-filled (preallocated) space: the end of the written log
            }
            var header = RecordFormat.ReadHeader(headerBytes);
            if (header.Marker != RecordFormat.RecordMarker)
            {
                problem = "record header damaged (bad marker)";
            }
            else if (header.Index != index)
            {
                problem = $"expected record {index} but found index {header.Index}";
            }
            else if (header.PayloadLength > data.Length - offset - RecordFormat.RecordHeaderBytes)
            {
                problem = $"record {index} claims {header.PayloadLength} payload bytes, more than the file holds (incomplete write)";
            }
            else if (!RecordFormat.ChecksumMatches(data.Slice((int)offset, RecordFormat.RecordHeaderBytes + header.PayloadLength), header.Crc))
            {
                problem = $"checksum mismatch in record {index}";
            }
            if (problem is not null)
            {
                break;
            }
            var size = RecordFormat.EncodedSize(header.PayloadLength);
            segment.Add(offset, header.Term, (int)Math.Min(size, data.Length - offset));
            notes.Records++;
            offset += size;
            index++;
        }
        segment.EndOffset = offset;
        if (!isLast)
        {
            if (problem is not null)
            {
                throw Corrupted(segment.Path, offset, problem);
            }
            return; // zeros after a rolled segment's last record are its unused preallocation
        }
        var rest = data[(int)Math.Min(offset, data.Length)..];
        var lastNonZero = rest.LastIndexOfAnyExcept((byte)0);
        if (problem is null && lastNonZero < 0)
        {
            return; // clean end
        }
        if (problem is not null)
        {
            var intact = FindIntactRecord(data, offset + 8, index);
            if (intact >= 0 && !_options.TruncateAfterCorruption)
            {
                throw Corrupted(segment.Path, offset, $"{problem}, followed by an intact record at offset {intact} (so this is not a torn final write)");
            }
        }
        var discarded = lastNonZero + 1;
        ZeroRange(segment, offset, offset + discarded);
        _io.SyncData(segment.Handle, segment.Path);
        notes.Repaired = true;
        notes.File = segment.Path;
        notes.Offset = offset;
        notes.Discarded = discarded;
        notes.Detail = problem is null
            ? $"discarded {discarded} bytes of unsynced data after the last intact record {index - 1} in '{segment.Path}' at offset {offset}"
            : $"torn tail: {problem} in '{segment.Path}' at offset {offset}; truncated there ({discarded} bytes discarded), log ends at {index - 1}";
    }

    /// <summary>Offset of an intact record with index at least <paramref name="minIndex"/> at an 8-aligned offset from <paramref name="from"/>, or -1.</summary>
    private static long FindIntactRecord(ReadOnlySpan<byte> data, long from, ulong minIndex)
    {
        for (var at = (from + 7) & ~7L; at + RecordFormat.RecordHeaderBytes <= data.Length; at += 8)
        {
            var span = data[(int)at..];
            if (BinaryPrimitives.ReadUInt32LittleEndian(span[28..]) != RecordFormat.RecordMarker)
            {
                continue;
            }
            var header = RecordFormat.ReadHeader(span);
            if (header.Index >= minIndex && header.PayloadLength <= span.Length - RecordFormat.RecordHeaderBytes
                && RecordFormat.ChecksumMatches(span[..(RecordFormat.RecordHeaderBytes + header.PayloadLength)], header.Crc))
            {
                return at;
            }
        }
        return -1;
    }

    private static void ReadFully(Microsoft.Win32.SafeHandles.SafeFileHandle handle, Span<byte> destination)
    {
        var read = 0;
        while (read < destination.Length)
        {
            var n = RandomAccess.Read(handle, destination[read..], read);
            if (n == 0)
            {
                throw new IOException("file shrank while being read");
            }
            read += n;
        }
    }
}
