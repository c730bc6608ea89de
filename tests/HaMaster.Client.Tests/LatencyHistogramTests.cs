using HaMaster.Bench.Load;

namespace HaMaster.Client.Tests;

public sealed class LatencyHistogramTests
{
    [Fact]
    public void Percentiles_of_a_uniform_range_are_within_the_bucket_precision()
    {
        var histogram = new LatencyHistogram();
        for (var v = 1; v <= 100_000; v++)
        {
            histogram.Record(v);
        }

        Assert.Equal(100_000, histogram.Count);
        Assert.Equal(100_000, histogram.Max);
        Assert.Equal(1, histogram.Min);
        Assert.InRange(histogram.ValueAtQuantile(0.5), 50_000 * 0.999, 50_000 * 1.001);
        Assert.InRange(histogram.ValueAtQuantile(0.99), 99_000 * 0.999, 99_000 * 1.001);
        Assert.InRange(histogram.ValueAtQuantile(0.999), 99_900, 100_000);
        Assert.Equal(100_000, histogram.ValueAtQuantile(1.0));
        Assert.Equal(50_000.5, histogram.Mean, 3);
    }

    [Fact]
    public void Small_values_are_exact_and_a_tail_is_visible()
    {
        var histogram = new LatencyHistogram();
        for (var i = 0; i < 990; i++)
        {
            histogram.Record(100);
        }

        for (var i = 0; i < 10; i++)
        {
            histogram.Record(5_000_000_000); // 5 s outliers in ns
        }

        Assert.Equal(100, histogram.ValueAtQuantile(0.5));
        Assert.Equal(100, histogram.ValueAtQuantile(0.99));
        Assert.InRange(histogram.ValueAtQuantile(0.999), 5_000_000_000 * 0.999, 5_000_000_000);
    }

    [Fact]
    public void Values_beyond_the_tracked_range_are_kept_exactly_as_the_maximum()
    {
        var histogram = new LatencyHistogram();
        histogram.Record(10);
        histogram.Record(LatencyHistogram.HighestTrackable * 2);
        histogram.Record(-5);
        Assert.Equal(3, histogram.Count);
        Assert.Equal(LatencyHistogram.HighestTrackable * 2, histogram.Max);
        Assert.Equal(LatencyHistogram.HighestTrackable * 2, histogram.ValueAtQuantile(1.0));
        Assert.Equal(0, histogram.Min);
        Assert.InRange(histogram.ValueAtQuantile(0.5), 10, 10);
    }

    [Fact]
    public async Task Concurrent_recording_loses_no_count_and_merging_adds_up()
    {
        var histogram = new LatencyHistogram();
        await Task.WhenAll(Enumerable.Range(0, 4).Select(t => Task.Run(() =>
        {
            for (var i = 0; i < 50_000; i++)
            {
                histogram.Record(i);
            }
        })));
        Assert.Equal(200_000, histogram.Count);

        var total = new LatencyHistogram();
        total.Add(histogram);
        total.Add(histogram);
        Assert.Equal(400_000, total.Count);
        Assert.Equal(histogram.ValueAtQuantile(0.9), total.ValueAtQuantile(0.9));
        Assert.Equal(0, new LatencyHistogram().ValueAtQuantile(0.99));
    }
}

public sealed class LatencySummaryTests
{
    [Fact]
    public void Known_samples_give_their_percentiles_in_milliseconds()
    {
        // 1..1000 ms in nanoseconds: the q-th percentile of this set is q * 1000 ms.
        var histogram = new LatencyHistogram();
        for (var ms = 1000; ms >= 1; ms--)
        {
            histogram.Record(ms * 1_000_000L);
        }

        var summary = LatencySummary.Of(histogram);

        Assert.Equal(1000, summary.Count);
        Assert.InRange(summary.P50Ms, 500 * 0.999, 500 * 1.001);
        Assert.InRange(summary.P90Ms, 900 * 0.999, 900 * 1.001);
        Assert.InRange(summary.P99Ms, 990 * 0.999, 990 * 1.001);
        Assert.InRange(summary.P999Ms, 999 * 0.999, 999 * 1.001);
        Assert.Equal(1000, summary.MaxMs);
        Assert.Equal(500.5, summary.MeanMs);
    }

    [Fact]
    public void Sub_millisecond_values_round_to_the_microsecond_and_the_tail_shows_in_p99_9()
    {
        var histogram = new LatencyHistogram();
        for (var i = 0; i < 998; i++)
        {
            histogram.Record(250_400); // 0.2504 ms
        }

        histogram.Record(2_000_000_000); // two 2 s stalls: 0.2% of the samples
        histogram.Record(2_000_000_000);

        var summary = LatencySummary.Of(histogram);

        Assert.Equal(0.25, summary.P50Ms, 2);
        Assert.Equal(Math.Round(summary.P50Ms, 3), summary.P50Ms);
        Assert.Equal(summary.P50Ms, summary.P99Ms);
        Assert.InRange(summary.P999Ms, 2000 * 0.999, 2000);
        Assert.Equal(2000, summary.MaxMs);
        Assert.Equal(Math.Round((998 * 0.2504 + 2 * 2000) / 1000, 3), summary.MeanMs);
    }

    [Fact]
    public void An_empty_histogram_summarises_as_zeros()
    {
        Assert.Equal(new LatencySummary(0, 0, 0, 0, 0, 0, 0), LatencySummary.Of(new LatencyHistogram()));
    }
}
