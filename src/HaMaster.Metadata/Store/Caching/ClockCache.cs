namespace HaMaster.Metadata.Store.Caching;

/// <summary>
/// A bounded map with CLOCK (second-chance) eviction: a hit sets the slot's reference bit; when full,
/// the hand clears set bits and evicts the first slot whose bit is clear. Cheaper than LRU (no list
/// relinking on hits) and close to it in hit rate.
/// </summary>
/// <remarks>Thread-safe: one short lock per call (readers populate the cache concurrently).</remarks>
internal sealed class ClockCache<TKey, TValue>
    where TKey : notnull
{
    private readonly Lock _lock = new();
    private readonly Dictionary<TKey, int> _index;
    private readonly Slot[] _slots;
    private readonly Stack<int> _free = new();
    private int _used;
    private int _hand;
    private long _hits;
    private long _misses;

    public ClockCache(int capacity, IEqualityComparer<TKey>? comparer = null)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(capacity, 1);
        _slots = new Slot[capacity];
        _index = new Dictionary<TKey, int>(capacity, comparer);
    }

    public int Capacity => _slots.Length;

    public int Count
    {
        get
        {
            lock (_lock)
            {
                return _index.Count;
            }
        }
    }

    public long Hits => Interlocked.Read(ref _hits);

    public long Misses => Interlocked.Read(ref _misses);

    public bool TryGet(TKey key, out TValue value)
    {
        lock (_lock)
        {
            if (_index.TryGetValue(key, out var slot))
            {
                _slots[slot].Referenced = true;
                value = _slots[slot].Value;
                _hits++;
                return true;
            }

            _misses++;
        }

        value = default!;
        return false;
    }

    /// <summary>Inserts or replaces. A new entry starts unreferenced: written-but-never-read entries go first.</summary>
    public void Set(TKey key, TValue value)
    {
        lock (_lock)
        {
            if (_index.TryGetValue(key, out var existing))
            {
                _slots[existing].Value = value;
                return;
            }

            int slot;
            if (_free.Count > 0)
            {
                slot = _free.Pop();
            }
            else if (_used < _slots.Length)
            {
                slot = _used++;
            }
            else
            {
                slot = Evict();
            }

            _slots[slot] = new Slot { Key = key, Value = value, InUse = true };
            _index[key] = slot;
        }
    }

    /// <summary>Replaces the value only when the key is cached (write-through without polluting the
    /// cache with entries nobody has read).</summary>
    public void Update(TKey key, TValue value)
    {
        lock (_lock)
        {
            if (_index.TryGetValue(key, out var existing))
            {
                _slots[existing].Value = value;
            }
        }
    }

    public void Remove(TKey key)
    {
        lock (_lock)
        {
            if (_index.Remove(key, out var slot))
            {
                _slots[slot] = default;
                _free.Push(slot);
            }
        }
    }

    // Called with the lock held and every slot in use. Terminates within two sweeps: the first
    // sweep clears every reference bit it passes.
    private int Evict()
    {
        while (true)
        {
            ref var candidate = ref _slots[_hand];
            var slot = _hand;
            _hand = (_hand + 1) % _slots.Length;
            if (!candidate.InUse)
            {
                return slot;
            }

            if (candidate.Referenced)
            {
                candidate.Referenced = false;
                continue;
            }

            _index.Remove(candidate.Key);
            candidate = default;
            return slot;
        }
    }

    private struct Slot
    {
        public TKey Key;
        public TValue Value;
        public bool InUse;
        public bool Referenced;
    }
}
