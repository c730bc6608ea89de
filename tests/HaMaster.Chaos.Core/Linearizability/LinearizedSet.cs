namespace HaMaster.Chaos.Core.Linearizability;

/// <summary>The set of operations linearized so far, as a bitset (one bit per operation of a partition).</summary>
internal sealed class LinearizedSet
{
    private readonly ulong[] _words;

    public LinearizedSet(int operations) => _words = new ulong[(operations + 63) / 64];

    private LinearizedSet(ulong[] words) => _words = words;

    public void Set(int index) => _words[index >> 6] |= 1UL << (index & 63);

    public void Clear(int index) => _words[index >> 6] &= ~(1UL << (index & 63));

    public LinearizedSet Clone() => new((ulong[])_words.Clone());

    public int Hash()
    {
        var hash = new HashCode();
        foreach (var word in _words)
        {
            hash.Add(word);
        }

        return hash.ToHashCode();
    }

    public bool SameAs(LinearizedSet other) => _words.AsSpan().SequenceEqual(other._words);
}
