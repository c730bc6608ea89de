namespace HaMaster.Raft.Tracking;

/// <summary>
/// Sliding window of append messages sent to one follower but not yet acknowledged (flow control in the replicate
/// state). A ring buffer of (last index, payload bytes) in send order; full when either the message or byte bound is hit.
/// </summary>
internal sealed class Inflights
{
    private readonly (ulong Index, long Bytes)[] _ring;
    private readonly long _maxBytes;
    private int _start;

    public Inflights(int maxMessages, long maxBytes)
    {
        _ring = new (ulong, long)[maxMessages];
        _maxBytes = maxBytes;
    }

    public int Count { get; private set; }
    public long Bytes { get; private set; }
    public int Capacity => _ring.Length;
    public bool Full => Count == _ring.Length || (_maxBytes > 0 && Bytes >= _maxBytes);

    /// <summary>Records a message whose last entry is <paramref name="index"/>; indexes must increase.</summary>
    public void Add(ulong index, long bytes)
    {
        if (Count == _ring.Length) throw new InvalidOperationException("Inflights overflow: caller must check Full.");
        _ring[(_start + Count) % _ring.Length] = (index, bytes);
        Count++;
        Bytes += bytes;
    }

    /// <summary>Frees every message whose last index is at most <paramref name="index"/> (an ack covers all before it).</summary>
    public void FreeLE(ulong index)
    {
        while (Count > 0 && _ring[_start].Index <= index)
        {
            Bytes -= _ring[_start].Bytes;
            _start = (_start + 1) % _ring.Length;
            Count--;
        }
        if (Count == 0) _start = 0;
    }

    /// <summary>Frees the oldest message (a heartbeat response proves the follower is alive although an append was lost).</summary>
    public void FreeFirstOne()
    {
        if (Count > 0) FreeLE(_ring[_start].Index);
    }

    public void Reset()
    {
        Count = 0;
        Bytes = 0;
        _start = 0;
    }
}
