using Microsoft.Win32.SafeHandles;

namespace HaMaster.Journal;

/// <summary>
/// One segment file and its in-memory index: a 4-byte offset per entry and the terms as runs
/// (terms change rarely), so a 64 MiB segment of 200-byte entries costs about 1 MiB of memory.
/// Not thread-safe: guarded by the owning <see cref="RaftLog"/>'s lock; the flusher only fsyncs
/// <see cref="Handle"/> (add-ref'd), so deleting a segment while a sync runs is safe.
/// </summary>
internal sealed class Segment : IDisposable
{
    private int[] _offsets = new int[1024];
    private readonly List<(int FirstOrdinal, ulong Term)> _termRuns = [];

    public Segment(string path, long seq, ulong firstIndex, SafeFileHandle handle)
    {
        Path = path;
        Seq = seq;
        FirstIndex = firstIndex;
        Handle = handle;
    }

    public string Path { get; }

    public long Seq { get; }

    public ulong FirstIndex { get; }

    public SafeFileHandle Handle { get; }

    public int Count { get; private set; }

    /// <summary>End of the last record (the next record's offset), including bytes still in the write buffer.</summary>
    public long EndOffset { get; set; } = RecordFormat.SegmentHeaderBytes;

    public ulong LastIndex => FirstIndex + (ulong)Count - 1;

    public bool Contains(ulong index) => index >= FirstIndex && index < FirstIndex + (ulong)Count;

    public long OffsetOf(ulong index) => _offsets[(int)(index - FirstIndex)];

    /// <summary>End offset of the record at <paramref name="index"/>.</summary>
    public long EndOf(ulong index)
    {
        var i = (int)(index - FirstIndex);
        return i + 1 < Count ? _offsets[i + 1] : EndOffset;
    }

    public ulong TermAt(ulong index)
    {
        var ordinal = (int)(index - FirstIndex);
        int lo = 0, hi = _termRuns.Count - 1;
        while (lo < hi)
        {
            var mid = (lo + hi + 1) / 2;
            if (_termRuns[mid].FirstOrdinal <= ordinal)
            {
                lo = mid;
            }
            else
            {
                hi = mid - 1;
            }
        }
        return _termRuns[lo].Term;
    }

    public void Add(long offset, ulong term, int encodedSize)
    {
        if (offset + encodedSize > int.MaxValue)
        {
            throw new InvalidOperationException($"Segment '{Path}' would exceed 2 GiB.");
        }
        if (Count == _offsets.Length)
        {
            Array.Resize(ref _offsets, Count * 2);
        }
        _offsets[Count] = (int)offset;
        if (_termRuns.Count == 0 || _termRuns[^1].Term != term)
        {
            _termRuns.Add((Count, term));
        }
        Count++;
        EndOffset = offset + encodedSize;
    }

    /// <summary>Forgets entries from <paramref name="index"/> on (in memory only).</summary>
    public void TruncateFrom(ulong index)
    {
        var keep = (int)(index - FirstIndex);
        if (keep >= Count)
        {
            return;
        }
        EndOffset = _offsets[keep];
        Count = keep;
        while (_termRuns.Count > 0 && _termRuns[^1].FirstOrdinal >= keep)
        {
            _termRuns.RemoveAt(_termRuns.Count - 1);
        }
    }

    public void Dispose() => Handle.Dispose();
}
