using HdrHistogram;

namespace HaMaster.Bench.Load;

/// <summary>
/// Latency histogram of the benchmarks: HdrHistogram's concurrent histogram with 3 significant
/// digits (a percentile is within 0.1% of the recorded value) from 1 to one hour in nanoseconds
/// (larger values are recorded as one hour), plus the exact minimum, maximum and mean.
/// Thread-safe: many load tasks record into one instance while a reporter reads it.
/// </summary>
internal sealed class LatencyHistogram
{
    /// <summary>Largest value the percentiles resolve: one hour in nanoseconds.</summary>
    public const long HighestTrackable = 3_600_000_000_000;

    private readonly LongConcurrentHistogram _histogram = new(1, HighestTrackable, 3);
    private long _count;
    private long _max;
    private long _min = long.MaxValue;
    private long _sum;

    /// <summary>Number of recorded values.</summary>
    public long Count => Volatile.Read(ref _count);

    /// <summary>Largest recorded value (0 when empty).</summary>
    public long Max => Volatile.Read(ref _max);

    /// <summary>Smallest recorded value (0 when empty).</summary>
    public long Min => Count == 0 ? 0 : Volatile.Read(ref _min);

    /// <summary>Arithmetic mean of the recorded values (0 when empty).</summary>
    public double Mean => Count is var n && n == 0 ? 0 : (double)Volatile.Read(ref _sum) / n;

    /// <summary>Records one value (e.g. nanoseconds); negative values count as 0.</summary>
    public void Record(long value)
    {
        value = Math.Max(0, value);
        _histogram.RecordValue(Math.Min(value, HighestTrackable));
        Interlocked.Add(ref _sum, value);
        Interlocked.Increment(ref _count);
        RaiseTo(ref _max, value);
        LowerTo(ref _min, value);
    }

    /// <summary>Adds every value recorded in <paramref name="other"/> to this histogram.</summary>
    public void Add(LatencyHistogram other)
    {
        _histogram.Add(other._histogram);
        Interlocked.Add(ref _sum, Volatile.Read(ref other._sum));
        Interlocked.Add(ref _count, other.Count);
        if (other.Count > 0)
        {
            RaiseTo(ref _max, other.Max);
            LowerTo(ref _min, other.Min);
        }
    }

    /// <summary>
    /// The value at <paramref name="quantile"/> (0..1): 1.0 is the exact maximum, others are within
    /// HdrHistogram's precision; 0 when empty.
    /// </summary>
    public long ValueAtQuantile(double quantile)
    {
        if (Count == 0)
        {
            return 0;
        }

        return quantile >= 1.0 ? Max : Math.Min(Max, _histogram.GetValueAtPercentile(quantile * 100));
    }

    private static void RaiseTo(ref long target, long value)
    {
        var seen = Volatile.Read(ref target);
        while (value > seen && Interlocked.CompareExchange(ref target, value, seen) is var actual && actual != seen)
        {
            seen = actual;
        }
    }

    private static void LowerTo(ref long target, long value)
    {
        var seen = Volatile.Read(ref target);
        while (value < seen && Interlocked.CompareExchange(ref target, value, seen) is var actual && actual != seen)
        {
            seen = actual;
        }
    }
}
