using Microsoft.Win32.SafeHandles;

namespace HaMaster.Journal;

/// <summary>
/// One segment file and its in-memory index (record offset and term per entry). Not thread-safe:
/// guarded by the owning <see cref="RaftLog"/>'s lock; the flusher only fsyncs <see cref="Handle"/>
/// (add-ref'd), so deleting a segment while a sync runs is safe.
/// </summary>
internal sealed class Segment : IDisposable
{
    private long[] _offsets = new long[1024];
    private ulong[] _terms = new ulong[1024];

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

    public ulong TermAt(ulong index) => _terms[(int)(index - FirstIndex)];

    public void Add(long offset, ulong term, int encodedSize)
    {
        if (Count == _offsets.Length)
        {
            Array.Resize(ref _offsets, Count * 2);
            Array.Resize(ref _terms, Count * 2);
        }
        _offsets[Count] = offset;
        _terms[Count] = term;
        Count++;
        EndOffset = offset + encodedSize;
    }

    /// <summary>Forgets entries from <paramref name="index"/> on (in memory only).</summary>
    public void TruncateFrom(ulong index)
    {
        var keep = (int)(index - FirstIndex);
        EndOffset = keep < Count ? _offsets[keep] : EndOffset;
        Count = keep;
    }

    public void Dispose() => Handle.Dispose();
}
