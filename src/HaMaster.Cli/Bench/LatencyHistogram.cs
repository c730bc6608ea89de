using System.Numerics;

namespace HaMaster.Cli.Bench;

/// <summary>
/// A log-linear latency histogram in the spirit of HdrHistogram: values below 128 get one bucket
/// each; above that, every power of two is split into 64 linear sub-buckets, so a bucket's width
/// is at most 1/64 (1.6%) of its value. Covers 0 .. 2^63-1 in 3,712 buckets (29 KiB).
/// Thread-safe and lock-free: <see cref="Record"/> is two Interlocked operations (bucket count and
/// sum), plus a CAS only when it sets a new minimum or maximum; readers (which sum the buckets) may
/// run concurrently and see a slightly stale view.
/// </summary>
public sealed class LatencyHistogram
{
    private const int LinearLimit = 128;     // values [0,128) are exact
    private const int SubBucketBits = 6;     // 64 sub-buckets per power of two above that
    private const int SubBuckets = 1 << SubBucketBits;
    private const int BucketCount = ((63 - SubBucketBits) * SubBuckets) + SubBuckets;

    private readonly long[] _counts = new long[BucketCount];
    private long _max;
    private long _min = long.MaxValue;
    private long _sum;

    /// <summary>Number of recorded values.</summary>
    public long Count
    {
        get
        {
            long total = 0;
            for (var i = 0; i < BucketCount; i++)
            {
                total += Volatile.Read(ref _counts[i]);
            }

            return total;
        }
    }

    /// <summary>Largest recorded value (0 when empty).</summary>
    public long Max => Volatile.Read(ref _max);

    /// <summary>Smallest recorded value (0 when empty).</summary>
    public long Min => Count == 0 ? 0 : Volatile.Read(ref _min);

    /// <summary>Arithmetic mean of the recorded values (0 when empty).</summary>
    public double Mean => Count is var n && n == 0 ? 0 : (double)Volatile.Read(ref _sum) / n;

    /// <summary>Records one value (e.g. nanoseconds); negative values count as 0.</summary>
    public void Record(long value)
    {
        if (value < 0)
        {
            value = 0;
        }

        Interlocked.Increment(ref _counts[BucketOf(value)]);
        Interlocked.Add(ref _sum, value);
        if (value > Volatile.Read(ref _max))
        {
            RaiseMax(value);
        }

        if (value < Volatile.Read(ref _min))
        {
            LowerMin(value);
        }
    }

    /// <summary>Adds every value of <paramref name="other"/> (e.g. per-worker histograms into a total).</summary>
    public void Add(LatencyHistogram other)
    {
        for (var i = 0; i < BucketCount; i++)
        {
            var c = Volatile.Read(ref other._counts[i]);
            if (c != 0)
            {
                Interlocked.Add(ref _counts[i], c);
            }
        }

        Interlocked.Add(ref _sum, Volatile.Read(ref other._sum));
        if (other.Count > 0)
        {
            RaiseMax(other.Max);
            LowerMin(other.Min);
        }
    }

    /// <summary>
    /// The value at quantile <paramref name="quantile"/> (0..1): the highest value equivalent to the
    /// bucket holding the rank-ceil(q*n) value, clamped to the recorded maximum; 0 when empty.
    /// </summary>
    public long ValueAtQuantile(double quantile)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(quantile, 0.0);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(quantile, 1.0);
        var total = Count;
        if (total == 0)
        {
            return 0;
        }

        var rank = Math.Max(1, (long)Math.Ceiling(quantile * total));
        long seen = 0;
        for (var i = 0; i < BucketCount; i++)
        {
            seen += Volatile.Read(ref _counts[i]);
            if (seen >= rank)
            {
                return Math.Min(HighestEquivalent(i), Max);
            }
        }

        return Max;
    }

    /// <summary>The bucket index of <paramref name="value"/> (exposed for tests of the bucket layout).</summary>
    internal static int BucketOf(long value)
    {
        if (value < LinearLimit)
        {
            return (int)value;
        }

        var msb = 63 - BitOperations.LeadingZeroCount((ulong)value);
        var exponent = msb - SubBucketBits;                    // >= 1 because value >= 128
        var mantissa = (int)(value >> exponent);               // in [64, 128)
        return (exponent * SubBuckets) + mantissa;
    }

    /// <summary>The smallest value that falls in bucket <paramref name="index"/>.</summary>
    internal static long LowestEquivalent(int index)
    {
        if (index < LinearLimit)
        {
            return index;
        }

        var exponent = (index / SubBuckets) - 1;
        var mantissa = (long)((index % SubBuckets) + SubBuckets);
        return mantissa << exponent;
    }

    /// <summary>The largest value that falls in bucket <paramref name="index"/>.</summary>
    internal static long HighestEquivalent(int index)
    {
        if (index < LinearLimit)
        {
            return index;
        }

        var exponent = (index / SubBuckets) - 1;
        var mantissa = (long)((index % SubBuckets) + SubBuckets);
        var next = (mantissa + 1) << exponent;
        return next <= 0 ? long.MaxValue : next - 1;
    }

    private void RaiseMax(long value)
    {
        var current = Volatile.Read(ref _max);
        while (value > current)
        {
            var seen = Interlocked.CompareExchange(ref _max, value, current);
            if (seen == current)
            {
                return;
            }

            current = seen;
        }
    }

    private void LowerMin(long value)
    {
        var current = Volatile.Read(ref _min);
        while (value < current)
        {
            var seen = Interlocked.CompareExchange(ref _min, value, current);
            if (seen == current)
            {
                return;
            }

            current = seen;
        }
    }
}
