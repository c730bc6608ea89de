using System.Diagnostics.Metrics;
using HaMaster.Server.Observability;

namespace HaMaster.Server.Tests.Observability;

/// <summary>
/// Rendering of instruments of a private meter per test (a unique name, so that tests running
/// in parallel never see each other's instruments).
/// </summary>
public sealed class PrometheusCollectorTests : IDisposable
{
    private readonly Meter _meter = new("hamaster.tests." + Guid.NewGuid().ToString("N"));
    private readonly PrometheusCollector _collector;

    public PrometheusCollectorTests()
    {
        _collector = new PrometheusCollector(_meter);
    }

    public void Dispose()
    {
        _collector.Dispose();
        _meter.Dispose();
    }

    private (string Text, IReadOnlyList<PrometheusSample> Samples) Render()
    {
        var text = _collector.Render();
        return (text, PrometheusText.Parse(text));
    }

    private static PrometheusSample Single(IReadOnlyList<PrometheusSample> samples, string name, params (string Key, string Value)[] labels)
    {
        var matches = samples.Where(s => s.Name == name && s.Labels.Count == labels.Length && labels.All(l => s.Label(l.Key) == l.Value)).ToList();
        Assert.True(matches.Count == 1, $"expected one sample {name}{{{string.Join(",", labels)}}}, found {matches.Count}");
        return matches[0];
    }

    [Fact]
    public void Nothing_recorded_renders_nothing()
    {
        _meter.CreateCounter<long>("test_idle");
        Assert.Equal("", _collector.Render());
    }

    [Fact]
    public void Counter_renders_as_total_per_label_set_with_help_and_type()
    {
        var counter = _meter.CreateCounter<long>("test_requests", description: "Requests served.");
        counter.Add(2, new("method", "/a"), new("code", "OK"));
        counter.Add(3, new("code", "OK"), new("method", "/a")); // same series whatever the tag order
        counter.Add(1, new("method", "/b"), new("code", "NotFound"));
        var (text, samples) = Render();

        Assert.Contains("# HELP test_requests_total Requests served.\n", text, StringComparison.Ordinal);
        Assert.Contains("# TYPE test_requests_total counter\n", text, StringComparison.Ordinal);
        Assert.Contains("test_requests_total{code=\"OK\",method=\"/a\"} 5\n", text, StringComparison.Ordinal);
        Assert.Equal(1, Single(samples, "test_requests_total", ("method", "/b"), ("code", "NotFound")).Value);
        Assert.Equal(2, samples.Count);
    }

    [Fact]
    public void Counter_without_tags_has_no_braces_and_int_and_double_counters_work()
    {
        _meter.CreateCounter<int>("test_ints").Add(4);
        var doubles = _meter.CreateCounter<double>("test_doubles");
        doubles.Add(0.25);
        doubles.Add(0.5);
        var (text, samples) = Render();
        Assert.Contains("\ntest_ints_total 4\n", "\n" + text, StringComparison.Ordinal);
        Assert.Equal(0.75, Single(samples, "test_doubles_total").Value);
    }

    [Fact]
    public void Seconds_histogram_has_cumulative_buckets_inf_sum_and_count()
    {
        var h = _meter.CreateHistogram<double>("test_latency", "s", "Latency.");
        foreach (var v in new[] { 0.0003, 0.0005, 0.003, 0.7, 20.0 }) h.Record(v, new KeyValuePair<string, object?>("method", "/m"));
        var (text, samples) = Render();

        Assert.Contains("# TYPE test_latency_seconds histogram\n", text, StringComparison.Ordinal);
        double Bucket(string le) => Single(samples, "test_latency_seconds_bucket", ("method", "/m"), ("le", le)).Value;
        Assert.Equal(2, Bucket("0.0005")); // a value equal to a bound falls in that bucket
        Assert.Equal(2, Bucket("0.001"));
        Assert.Equal(3, Bucket("0.005"));
        Assert.Equal(3, Bucket("0.5"));
        Assert.Equal(4, Bucket("1"));
        Assert.Equal(4, Bucket("10"));
        Assert.Equal(5, Bucket("+Inf"));
        Assert.Equal(5, Single(samples, "test_latency_seconds_count", ("method", "/m")).Value);
        Assert.Equal(20.7038, Single(samples, "test_latency_seconds_sum", ("method", "/m")).Value, 9);
        Assert.Contains("test_latency_seconds_bucket{method=\"/m\",le=\"+Inf\"} 5\n", text, StringComparison.Ordinal);
    }

    [Fact]
    public void Count_histogram_uses_power_of_two_buckets_and_no_unit_suffix()
    {
        var h = _meter.CreateHistogram<long>("test_batch_entries");
        h.Record(3);
        h.Record(1);
        h.Record(100_000);
        var (text, samples) = Render();
        Assert.Contains("# TYPE test_batch_entries histogram\n", text, StringComparison.Ordinal);
        Assert.Equal(1, Single(samples, "test_batch_entries_bucket", ("le", "1")).Value);
        Assert.Equal(1, Single(samples, "test_batch_entries_bucket", ("le", "2")).Value);
        Assert.Equal(2, Single(samples, "test_batch_entries_bucket", ("le", "4")).Value);
        Assert.Equal(2, Single(samples, "test_batch_entries_bucket", ("le", "16384")).Value);
        Assert.Equal(3, Single(samples, "test_batch_entries_bucket", ("le", "+Inf")).Value);
        Assert.Equal(100_004, Single(samples, "test_batch_entries_sum").Value);
    }

    [Fact]
    public void Observable_gauge_is_read_at_render_time()
    {
        double value = 1;
        var reads = 0;
        _meter.CreateObservableGauge("test_term", () =>
        {
            reads++;
            return value;
        }, description: "Term.");
        Assert.Equal(0, reads);
        var (text, samples) = Render();
        Assert.Contains("# TYPE test_term gauge\n", text, StringComparison.Ordinal);
        Assert.Equal(1, Single(samples, "test_term").Value);
        value = 42.5;
        Assert.Equal(42.5, Single(Render().Samples, "test_term").Value);
        value = 3; // gauges go down too: the last reading replaces, never adds
        Assert.Equal(3, Single(Render().Samples, "test_term").Value);
        Assert.Equal(3, reads);
    }

    [Fact]
    public void Observable_counter_renders_as_total_with_the_latest_reading()
    {
        long hits = 10;
        _meter.CreateObservableCounter("test_cache_hits", () => hits);
        Assert.Equal(10, Single(Render().Samples, "test_cache_hits_total").Value);
        hits = 25;
        var (text, samples) = Render();
        Assert.Equal(25, Single(samples, "test_cache_hits_total").Value);
        Assert.Contains("# TYPE test_cache_hits_total counter\n", text, StringComparison.Ordinal);
    }

    [Fact]
    public void Up_down_counter_is_a_gauge_that_sums()
    {
        var c = _meter.CreateUpDownCounter<long>("test_inflight");
        c.Add(5);
        c.Add(-2);
        var (text, samples) = Render();
        Assert.Contains("# TYPE test_inflight gauge\n", text, StringComparison.Ordinal);
        Assert.Equal(3, Single(samples, "test_inflight").Value);
    }

    [Fact]
    public void Units_and_invalid_name_characters_are_rendered_in_prometheus_style()
    {
        _meter.CreateObservableGauge("test.snapshot-size", () => 7L, "By");
        _meter.CreateObservableGauge("test_wait_seconds", () => 1.5, "s"); // already ends with... "s", not doubled
        var samples = Render().Samples;
        Assert.Equal(7, Single(samples, "test_snapshot_size_bytes").Value);
        Assert.Equal(1.5, Single(samples, "test_wait_seconds").Value);
    }

    [Fact]
    public void Label_values_are_escaped()
    {
        var counter = _meter.CreateCounter<long>("test_escaping");
        const string nasty = "a\"b\\c\nd,e=f}";
        counter.Add(1, new KeyValuePair<string, object?>("path", nasty));
        counter.Add(1, new KeyValuePair<string, object?>("path", 12));
        counter.Add(1, new KeyValuePair<string, object?>("path", null));
        var (text, samples) = Render();
        Assert.Contains("test_escaping_total{path=\"a\\\"b\\\\c\\nd,e=f}\"} 1\n", text, StringComparison.Ordinal);
        Assert.Equal(1, Single(samples, "test_escaping_total", ("path", nasty)).Value);
        Assert.Equal(1, Single(samples, "test_escaping_total", ("path", "12")).Value);
        Assert.Equal(1, Single(samples, "test_escaping_total", ("path", "")).Value);
    }

    [Fact]
    public void Families_are_sorted_and_each_declared_once()
    {
        _meter.CreateCounter<long>("test_b").Add(1, new KeyValuePair<string, object?>("k", "2"));
        _meter.CreateCounter<long>("test_b2").Add(1);
        _meter.CreateCounter<long>("test_a").Add(1);
        var b = _meter.CreateCounter<long>("test_c");
        b.Add(1, new KeyValuePair<string, object?>("k", "2"));
        b.Add(1, new KeyValuePair<string, object?>("k", "1"));
        var text = Render().Text;
        var types = text.Split('\n').Where(l => l.StartsWith("# TYPE", StringComparison.Ordinal)).ToList();
        Assert.Equal(["# TYPE test_a_total counter", "# TYPE test_b_total counter", "# TYPE test_b2_total counter", "# TYPE test_c_total counter"], types);
        Assert.True(text.IndexOf("k=\"1\"", StringComparison.Ordinal) < text.LastIndexOf("k=\"2\"", StringComparison.Ordinal));
    }

    [Fact]
    public void Instruments_of_other_meters_are_not_rendered()
    {
        using var other = new Meter("hamaster.tests.other." + Guid.NewGuid().ToString("N"));
        other.CreateCounter<long>("test_foreign").Add(1);
        _meter.CreateCounter<long>("test_own").Add(1);
        var text = Render().Text;
        Assert.DoesNotContain("test_foreign", text, StringComparison.Ordinal);
        Assert.Contains("test_own_total 1", text, StringComparison.Ordinal);
    }

    [Fact]
    public void Concurrent_recording_loses_no_measurement()
    {
        var counter = _meter.CreateCounter<long>("test_concurrent");
        var histogram = _meter.CreateHistogram<long>("test_concurrent_sizes");
        Parallel.For(0, 4, _ =>
        {
            for (var i = 0; i < 10_000; i++)
            {
                counter.Add(1);
                histogram.Record(i % 8);
            }
        });
        var samples = Render().Samples;
        Assert.Equal(40_000, Single(samples, "test_concurrent_total").Value);
        Assert.Equal(40_000, Single(samples, "test_concurrent_sizes_count").Value);
        Assert.Equal(40_000, Single(samples, "test_concurrent_sizes_bucket", ("le", "+Inf")).Value);
    }

    [Fact]
    public void Negative_infinity_is_rendered_as_minus_Inf()
    {
        _meter.CreateObservableGauge("test_neg_inf", () => double.NegativeInfinity);
        Assert.True(double.IsNegativeInfinity(Single(Render().Samples, "test_neg_inf").Value));
    }
}
