namespace HaMaster.Chaos.Failover;

/// <summary>
/// Write-unavailability arithmetic over sorted completion times of successful writes (any unit of
/// time, e.g. history ticks). Pure, so the chaos summary and the failover run share it and tests
/// can check it without processes.
/// </summary>
public static class WriteGaps
{
    /// <summary>
    /// The longest stretch without a successful write that overlaps the fault window
    /// [<paramref name="from"/>, <paramref name="to"/>): it starts at the last success before (or
    /// at) <paramref name="from"/>, or at <paramref name="from"/> if there was none, and each
    /// stretch ends at the next success (or at <paramref name="end"/>, the end of the record). A
    /// write that completed just before the fault began counts, because clients saw no writes from
    /// then on; a gap that starts after <paramref name="to"/> belongs to the next window.
    /// </summary>
    public static long LongestIn(IReadOnlyList<long> sortedSuccesses, long from, long to, long end)
    {
        ArgumentNullException.ThrowIfNull(sortedSuccesses);
        if (to < from) throw new ArgumentOutOfRangeException(nameof(to), "the window ends before it starts");
        var i = UpperBound(sortedSuccesses, from); // first success after `from`
        var previous = i > 0 ? sortedSuccesses[i - 1] : from;
        long longest = 0;
        for (; ; i++)
        {
            var next = i < sortedSuccesses.Count ? sortedSuccesses[i] : Math.Max(end, previous);
            longest = Math.Max(longest, next - previous);
            if (i >= sortedSuccesses.Count || next >= to) return longest;
            previous = next;
        }
    }

    /// <summary>The median (mean of the middle two for an even count); NaN when empty.</summary>
    public static double Median(IEnumerable<double> values)
    {
        var sorted = values.Order().ToArray();
        if (sorted.Length == 0) return double.NaN;
        var mid = sorted.Length / 2;
        return sorted.Length % 2 == 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
    }

    private static int UpperBound(IReadOnlyList<long> sorted, long value)
    {
        int lo = 0, hi = sorted.Count;
        while (lo < hi)
        {
            var mid = (lo + hi) >>> 1;
            if (sorted[mid] <= value) lo = mid + 1;
            else hi = mid;
        }

        return lo;
    }
}
