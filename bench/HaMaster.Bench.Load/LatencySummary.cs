namespace HaMaster.Bench.Load;

/// <summary>
/// The latency figures every report prints, in milliseconds rounded to the microsecond, from a
/// <see cref="LatencyHistogram"/> of nanoseconds: percentiles within HdrHistogram's 0.1%, the
/// exact maximum and mean; all 0 when nothing was recorded.
/// </summary>
internal readonly record struct LatencySummary(long Count, double P50Ms, double P90Ms, double P99Ms, double P999Ms, double MaxMs, double MeanMs)
{
    public static LatencySummary Of(LatencyHistogram nanoseconds)
    {
        ArgumentNullException.ThrowIfNull(nanoseconds);
        return new LatencySummary(
            nanoseconds.Count,
            Ms(nanoseconds.ValueAtQuantile(0.50)),
            Ms(nanoseconds.ValueAtQuantile(0.90)),
            Ms(nanoseconds.ValueAtQuantile(0.99)),
            Ms(nanoseconds.ValueAtQuantile(0.999)),
            Ms(nanoseconds.Max),
            Math.Round(nanoseconds.Mean / 1e6, 3));
    }

    /// <summary>Nanoseconds as milliseconds rounded to the microsecond (3 decimals).</summary>
    public static double Ms(long nanoseconds) => Math.Round(nanoseconds / 1e6, 3);
}
