namespace HaMaster.Bench.LeanGrpc.Hpack;

internal sealed partial class HpackDecoder
{
    /// <summary>
    /// The decoding dynamic table (RFC 7541 2.3.2, 4): a ring of entries, newest at dynamic index 0.
    /// Each entry is one byte[] holding name then value. Not thread-safe (owned by one decoder).
    /// </summary>
    private sealed class DynamicTable
    {
        /// <summary>Per-entry overhead counted by RFC 7541 4.1.</summary>
        public const int EntryOverhead = 32;

        // Ring buffer: _ring[_newest] is dynamic index 0, older entries follow at decreasing positions.
        // It grows (doubling) on demand, so a large SETTINGS_HEADER_TABLE_SIZE costs nothing up front.
        private Entry[] _ring = new Entry[16];
        private int _newest = -1;
        private int _maxSize;

        public DynamicTable(int maxSize)
        {
            _maxSize = maxSize;
        }

        public int Count { get; private set; }

        public int Size { get; private set; }

        /// <summary>Entry at dynamic index <paramref name="index"/> (0 = newest); caller checks the range.</summary>
        public Entry this[int index]
        {
            get
            {
                var slot = _newest - index;
                return _ring[slot < 0 ? slot + _ring.Length : slot];
            }
        }

        public void SetMaxSize(int maxSize)
        {
            _maxSize = maxSize;
            EvictUntil(maxSize);
        }

        /// <summary>RFC 7541 4.4: evict until the new entry fits; an entry larger than the table empties it.</summary>
        public void Add(ReadOnlySpan<byte> name, ReadOnlySpan<byte> value)
        {
            var entrySize = (long)name.Length + value.Length + EntryOverhead;
            if (entrySize > _maxSize)
            {
                EvictUntil(0);
                return;
            }

            // Copy before evicting: name may point into an entry that is about to be evicted.
            var data = new byte[name.Length + value.Length];
            name.CopyTo(data);
            value.CopyTo(data.AsSpan(name.Length));

            EvictUntil(_maxSize - (int)entrySize);
            if (Count == _ring.Length)
            {
                Grow();
            }

            _newest = _newest + 1 == _ring.Length ? 0 : _newest + 1;
            _ring[_newest] = new Entry(data, name.Length);
            Count++;
            Size += (int)entrySize;
        }

        private void Grow()
        {
            // Re-lay the ring oldest-first from slot 0 so the newest lands at Count - 1.
            var grown = new Entry[_ring.Length * 2];
            for (var i = 0; i < Count; i++)
            {
                grown[Count - 1 - i] = this[i];
            }

            _ring = grown;
            _newest = Count - 1;
        }

        private void EvictUntil(int targetSize)
        {
            while (Size > targetSize)
            {
                // The oldest entry sits Count - 1 slots behind the newest.
                var slot = _newest - (Count - 1);
                if (slot < 0)
                {
                    slot += _ring.Length;
                }

                Size -= _ring[slot].Data.Length + EntryOverhead;
                _ring[slot] = default;
                Count--;
            }
        }

        /// <summary>One table entry: <see cref="Data"/> is name followed by value.</summary>
        public readonly record struct Entry(byte[] Data, int NameLength)
        {
            public ReadOnlySpan<byte> Name => Data.AsSpan(0, NameLength);

            public ReadOnlySpan<byte> Value => Data.AsSpan(NameLength);
        }
    }
}
