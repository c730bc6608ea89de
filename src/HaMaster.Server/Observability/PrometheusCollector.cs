using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using System.Globalization;
using System.Text;

namespace HaMaster.Server.Observability;

/// <summary>
/// Collects every instrument of the given meters through a <see cref="MeterListener"/> and
/// renders them in the Prometheus text exposition format (version 0.0.4): counters as
/// <c>_total</c>, histograms with cumulative <c>_bucket</c>, <c>_sum</c> and <c>_count</c>,
/// observable gauges read at scrape time. Thread-safe: measurements arrive from any thread.
/// </summary>
internal sealed class PrometheusCollector : IDisposable
{
    private static readonly double[] SecondsBuckets = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];
    private static readonly double[] CountBuckets = [1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024, 4096, 16384];
    private readonly MeterListener _listener = new();
    private readonly ConcurrentDictionary<(Instrument Instrument, string Labels), Series> _series = new();
    private readonly HashSet<Meter> _meters;

    private sealed class Series(double[]? buckets)
    {
        public readonly object Gate = new();
        public double Value;
        public double Sum;
        public long Count;
        public readonly long[]? BucketCounts = buckets is null ? null : new long[buckets.Length];
        public readonly double[]? Buckets = buckets;
    }

    /// <summary>Collects the instruments of exactly these meter instances (not every meter of the same
    /// name in the process: two masters in one process keep separate metrics).</summary>
    public PrometheusCollector(params Meter[] meters)
    {
        _meters = new HashSet<Meter>(meters);
        _listener.InstrumentPublished = (instrument, listener) =>
        {
            if (_meters.Contains(instrument.Meter)) listener.EnableMeasurementEvents(instrument);
        };
        _listener.SetMeasurementEventCallback<long>((i, v, tags, _) => Record(i, v, tags));
        _listener.SetMeasurementEventCallback<int>((i, v, tags, _) => Record(i, v, tags));
        _listener.SetMeasurementEventCallback<double>((i, v, tags, _) => Record(i, v, tags));
        _listener.Start();
    }

    private void Record(Instrument instrument, double value, ReadOnlySpan<KeyValuePair<string, object?>> tags)
    {
        var labels = FormatLabels(tags);
        var isHistogram = instrument.GetType().Name.StartsWith("Histogram", StringComparison.Ordinal);
        var series = _series.GetOrAdd((instrument, labels), _ => new Series(isHistogram ? (instrument.Unit == "s" ? SecondsBuckets : CountBuckets) : null));
        lock (series.Gate)
        {
            if (series.Buckets is { } buckets)
            {
                series.Sum += value;
                series.Count++;
                for (var b = 0; b < buckets.Length; b++)
                {
                    if (value <= buckets[b])
                    {
                        series.BucketCounts![b]++;
                        break;
                    }
                }
            }
            else if (instrument.GetType().Name.StartsWith("Observable", StringComparison.Ordinal))
            {
                series.Value = value;
            }
            else
            {
                series.Value += value;
            }
        }
    }

    /// <summary>Renders every series (reading observable instruments first).</summary>
    public string Render()
    {
        _listener.RecordObservableInstruments();
        var text = new StringBuilder(8192);
        foreach (var group in _series.GroupBy(kv => kv.Key.Instrument).OrderBy(g => g.Key.Name, StringComparer.Ordinal))
        {
            var instrument = group.Key;
            var name = MetricName(instrument);
            var typeName = instrument.GetType().Name;
            var kind = typeName.StartsWith("Histogram", StringComparison.Ordinal) ? "histogram"
                : typeName.StartsWith("Counter", StringComparison.Ordinal) || typeName.StartsWith("ObservableCounter", StringComparison.Ordinal) ? "counter"
                : "gauge";
            var exposed = kind == "counter" ? name + "_total" : name;
            if (!string.IsNullOrEmpty(instrument.Description)) text.Append("# HELP ").Append(exposed).Append(' ').Append(instrument.Description.Replace('\n', ' ')).Append('\n');
            text.Append("# TYPE ").Append(exposed).Append(' ').Append(kind).Append('\n');
            foreach (var (key, series) in group.OrderBy(kv => kv.Key.Labels, StringComparer.Ordinal))
            {
                lock (series.Gate)
                {
                    if (kind == "histogram")
                    {
                        long cumulative = 0;
                        for (var b = 0; b < series.Buckets!.Length; b++)
                        {
                            cumulative += series.BucketCounts![b];
                            text.Append(name).Append("_bucket").Append(WithLabel(key.Labels, "le", Format(series.Buckets[b]))).Append(' ').Append(cumulative).Append('\n');
                        }

                        text.Append(name).Append("_bucket").Append(WithLabel(key.Labels, "le", "+Inf")).Append(' ').Append(series.Count).Append('\n');
                        text.Append(name).Append("_sum").Append(Braced(key.Labels)).Append(' ').Append(Format(series.Sum)).Append('\n');
                        text.Append(name).Append("_count").Append(Braced(key.Labels)).Append(' ').Append(series.Count).Append('\n');
                    }
                    else
                    {
                        text.Append(exposed).Append(Braced(key.Labels)).Append(' ').Append(Format(series.Value)).Append('\n');
                    }
                }
            }
        }

        return text.ToString();
    }

    private static string MetricName(Instrument instrument)
    {
        var name = new StringBuilder(instrument.Name.Length + 8);
        foreach (var c in instrument.Name) name.Append(char.IsAsciiLetterOrDigit(c) ? c : '_');
        if (instrument.Unit is { Length: > 0 } unit && !instrument.Name.EndsWith(unit, StringComparison.Ordinal))
        {
            name.Append('_').Append(unit == "s" ? "seconds" : unit == "By" ? "bytes" : unit);
        }

        return name.ToString();
    }

    private static string FormatLabels(ReadOnlySpan<KeyValuePair<string, object?>> tags)
    {
        if (tags.Length == 0) return "";
        var parts = new List<string>(tags.Length);
        foreach (var t in tags)
        {
            var value = Convert.ToString(t.Value, CultureInfo.InvariantCulture) ?? "";
            parts.Add($"{t.Key}=\"{value.Replace("\\", "\\\\", StringComparison.Ordinal).Replace("\"", "\\\"", StringComparison.Ordinal).Replace("\n", "\\n", StringComparison.Ordinal)}\"");
        }

        parts.Sort(StringComparer.Ordinal);
        return string.Join(',', parts);
    }

    private static string Braced(string labels) => labels.Length == 0 ? "" : "{" + labels + "}";

    private static string WithLabel(string labels, string key, string value) =>
        "{" + (labels.Length == 0 ? "" : labels + ",") + key + "=\"" + value + "\"}";

    private static string Format(double v) =>
        double.IsPositiveInfinity(v) ? "+Inf" : double.IsNegativeInfinity(v) ? "-Inf" : double.IsNaN(v) ? "NaN" : v.ToString(CultureInfo.InvariantCulture);

    public void Dispose() => _listener.Dispose();
}
