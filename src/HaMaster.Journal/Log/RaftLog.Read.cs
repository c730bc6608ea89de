namespace HaMaster.Journal;

/// <summary>Reading entries back by index range.</summary>
public sealed partial class RaftLog
{
    /// <summary>
    /// Reads entries [<paramref name="fromIndex"/>, <paramref name="toExclusive"/>): at least one, then
    /// stops before the total encoded size (32-byte header + payload, 8-aligned) would exceed
    /// <paramref name="maxBytes"/>. Payloads are slices of one buffer per segment read (no copy per
    /// entry); every record's checksum is verified.
    /// </summary>
    public IReadOnlyList<LogRecord> Read(ulong fromIndex, ulong toExclusive, long maxBytes)
    {
        lock (_lock)
        {
            ThrowIfUnusable();
            if (fromIndex <= _snapshotIndex)
            {
                throw new LogIndexUnavailableException($"Read from index {fromIndex}: compacted behind the snapshot at index {_snapshotIndex}.", fromIndex, TermLookup.Compacted);
            }
            if (toExclusive > LastIndexLocked + 1)
            {
                throw new LogIndexUnavailableException($"Read up to index {toExclusive - 1}: the log ends at index {LastIndexLocked}.", toExclusive - 1, TermLookup.Unavailable);
            }
            var result = new List<LogRecord>();
            if (fromIndex >= toExclusive)
            {
                return result;
            }
            if (_bufferLength > 0 && Active.Contains(toExclusive - 1) && Active.EndOf(toExclusive - 1) > _bufferFileOffset)
            {
                WriteBufferLocked();
            }
            long total = 0;
            var index = fromIndex;
            while (index < toExclusive)
            {
                var segment = FindSegment(index);
                var last = Math.Min(toExclusive - 1, segment.LastIndex);
                var end = index;
                var full = false;
                while (end <= last)
                {
                    var size = segment.EndOf(end) - segment.OffsetOf(end);
                    if (result.Count > 0 || end > index)
                    {
                        if (total + size > maxBytes)
                        {
                            full = true;
                            break;
                        }
                    }
                    total += size;
                    end++;
                }
                if (end > index)
                {
                    ReadRange(segment, index, end, result);
                }
                if (full)
                {
                    break;
                }
                index = end;
            }
            return result;
        }
    }

    private void ReadRange(Segment segment, ulong from, ulong toExclusive, List<LogRecord> result)
    {
        var start = segment.OffsetOf(from);
        var length = checked((int)(segment.EndOf(toExclusive - 1) - start));
        var bytes = GC.AllocateUninitializedArray<byte>(length);
        var read = 0;
        while (read < length)
        {
            var n = RandomAccess.Read(segment.Handle, bytes.AsSpan(read), start + read);
            if (n == 0)
            {
                throw Corrupted(segment.Path, start + read, "the segment file ends inside a record that recovery had indexed");
            }
            read += n;
        }
        for (var index = from; index < toExclusive; index++)
        {
            var at = (int)(segment.OffsetOf(index) - start);
            var header = RecordFormat.ReadHeader(bytes.AsSpan(at));
            if (header.Index != index || header.PayloadLength > length - at - RecordFormat.RecordHeaderBytes
                || !RecordFormat.ChecksumMatches(bytes.AsSpan(at, RecordFormat.RecordHeaderBytes + header.PayloadLength), header.Crc))
            {
                throw Corrupted(segment.Path, start + at, $"record {index} failed verification when read back");
            }
            result.Add(new LogRecord(index, header.Term, header.Kind, bytes.AsMemory(at + RecordFormat.RecordHeaderBytes, header.PayloadLength)));
        }
    }
}
