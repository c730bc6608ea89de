using Grpc.Core;
using HaMaster.Server.Observability;
using HaMaster.Server.Raft;
using Microsoft.Extensions.Logging;

namespace HaMaster.Server.Tests.Observability;

/// <summary>
/// The master's own instruments (meter "HaMaster"). Every test of this class shares that meter
/// name, and xunit runs a class's tests one at a time: no other class may create MasterMetrics.
/// </summary>
public sealed class MasterMetricsTests
{
    private static PrometheusSample Single(IReadOnlyList<PrometheusSample> samples, string name, params (string Key, string Value)[] labels)
    {
        var matches = samples.Where(s => s.Name == name && s.Labels.Count == labels.Length && labels.All(l => s.Label(l.Key) == l.Value)).ToList();
        Assert.True(matches.Count == 1, $"expected one sample {name}{{{string.Join(",", labels)}}}, found {matches.Count}");
        return matches[0];
    }

    [Fact]
    public void Recording_methods_render_as_valid_prometheus_text()
    {
        using var metrics = new MasterMetrics();
        using var collector = new PrometheusCollector(metrics.Meter);
        metrics.RpcCompleted("/hamaster.v1.FileSystemMaster/GetStatus", StatusCode.OK, TimeSpan.FromMilliseconds(2));
        metrics.RpcCompleted("/hamaster.v1.FileSystemMaster/GetStatus", StatusCode.OK, TimeSpan.FromMilliseconds(30));
        metrics.RpcCompleted("/hamaster.v1.FileSystemMaster/GetStatus", StatusCode.NotFound, TimeSpan.FromSeconds(3));
        metrics.Fsync(TimeSpan.FromMilliseconds(4), 12);
        metrics.Applied(12);
        metrics.SnapshotTaken(TimeSpan.FromSeconds(1.5));
        metrics.LeaderChanged();
        metrics.LeaderChanged();
        metrics.WorkerDeclaredLost();
        metrics.TtlExpired("delete", 3);
        metrics.TtlExpired("free", 1);
        metrics.TtlExpired("delete", 2);
        var text = collector.Render();
        var samples = PrometheusText.Parse(text);

        const string method = "/hamaster.v1.FileSystemMaster/GetStatus";
        Assert.Equal(2, Single(samples, "hamaster_rpc_calls_total", ("code", "OK"), ("method", method)).Value);
        Assert.Equal(1, Single(samples, "hamaster_rpc_calls_total", ("code", "NotFound"), ("method", method)).Value);
        Assert.Equal(3, Single(samples, "hamaster_rpc_duration_seconds_count", ("method", method)).Value);
        Assert.Equal(1, Single(samples, "hamaster_rpc_duration_seconds_bucket", ("method", method), ("le", "0.0025")).Value);
        Assert.Equal(2, Single(samples, "hamaster_rpc_duration_seconds_bucket", ("method", method), ("le", "0.05")).Value);
        Assert.Equal(3, Single(samples, "hamaster_rpc_duration_seconds_bucket", ("method", method), ("le", "5")).Value);
        Assert.Equal(1, Single(samples, "hamaster_raft_fsync_duration_seconds_count").Value);
        Assert.Equal(0.004, Single(samples, "hamaster_raft_fsync_duration_seconds_sum").Value, 9);
        Assert.Equal(12, Single(samples, "hamaster_raft_append_batch_entries_sum").Value);
        Assert.Equal(1, Single(samples, "hamaster_raft_append_batch_entries_bucket", ("le", "16")).Value);
        Assert.Equal(0, Single(samples, "hamaster_raft_append_batch_entries_bucket", ("le", "8")).Value);
        Assert.Equal(12, Single(samples, "hamaster_raft_apply_batch_entries_sum").Value);
        Assert.Equal(5, Single(samples, "hamaster_ttl_expired_total", ("action", "delete")).Value);
        Assert.Equal(1, Single(samples, "hamaster_ttl_expired_total", ("action", "free")).Value);
        Assert.Equal(1.5, Single(samples, "hamaster_snapshot_duration_seconds_sum").Value);
        Assert.Equal(2, Single(samples, "hamaster_raft_leader_changes_total").Value);
        Assert.Equal(1, Single(samples, "hamaster_workers_declared_lost_total").Value);
        Assert.Contains("# HELP hamaster_rpc_calls_total gRPC calls served, by method and status code.\n", text, StringComparison.Ordinal);
        Assert.Contains("# TYPE hamaster_rpc_duration_seconds histogram\n", text, StringComparison.Ordinal);
    }

    [Fact]
    public void Observed_gauges_and_counters_are_read_at_scrape_time()
    {
        using var metrics = new MasterMetrics();
        using var collector = new PrometheusCollector(metrics.Meter);
        ulong term = 3;
        long hits = 0;
        metrics.ObserveGauge("hamaster_raft_term", () => term, description: "Current Raft term.");
        metrics.ObserveGauge("hamaster_snapshot_size", () => 4096, "By", "Size of the newest snapshot.");
        metrics.ObserveCounter("hamaster_inode_cache_hits", () => hits, "Inode cache hits.");

        var samples = PrometheusText.Parse(collector.Render());
        Assert.Equal(3, Single(samples, "hamaster_raft_term").Value);
        Assert.Equal(4096, Single(samples, "hamaster_snapshot_size_bytes").Value);
        Assert.Equal(0, Single(samples, "hamaster_inode_cache_hits_total").Value);

        term = 4;
        hits = 17;
        var text = collector.Render();
        samples = PrometheusText.Parse(text);
        Assert.Equal(4, Single(samples, "hamaster_raft_term").Value);
        Assert.Equal(17, Single(samples, "hamaster_inode_cache_hits_total").Value);
        Assert.Contains("# TYPE hamaster_raft_term gauge\n", text, StringComparison.Ordinal);
        Assert.Contains("# HELP hamaster_snapshot_size_bytes Size of the newest snapshot.\n", text, StringComparison.Ordinal);
    }

    [Fact]
    public void Garbage_collector_totals_are_exported_as_counters_that_follow_the_runtime()
    {
        using var metrics = new MasterMetrics();
        using var collector = new PrometheusCollector(metrics.Meter);
        metrics.ObserveGarbageCollector();

        var before = PrometheusText.Parse(collector.Render());
        GC.Collect(2, GCCollectionMode.Forced, blocking: true);
        var text = collector.Render();
        var after = PrometheusText.Parse(text);

        Assert.Contains("# TYPE hamaster_process_gc_pause_seconds_total counter\n", text, StringComparison.Ordinal);
        Assert.Contains("# TYPE hamaster_process_gc_collections_total counter\n", text, StringComparison.Ordinal);
        const string collections = "hamaster_process_gc_collections_total";
        Assert.True(Single(after, collections, ("generation", "2")).Value >= Single(before, collections, ("generation", "2")).Value + 1, "a forced gen-2 collection is counted");
        Assert.True(Single(after, collections, ("generation", "0")).Value >= Single(after, collections, ("generation", "2")).Value);
        Assert.True(Single(after, "hamaster_process_gc_pause_seconds_total").Value >= Single(before, "hamaster_process_gc_pause_seconds_total").Value);
    }

    [Fact]
    public void Disposed_metrics_stop_reading_their_gauges()
    {
        var reads = 0;
        var metrics = new MasterMetrics();
        using var collector = new PrometheusCollector(metrics.Meter);
        metrics.ObserveGauge("hamaster_probe", () =>
        {
            reads++;
            return 1;
        });
        collector.Render();
        Assert.Equal(1, reads);
        metrics.Dispose();
        collector.Render();
        Assert.Equal(1, reads); // a stopped master's gauges (reading a closed store) are not called again
    }

    [Fact]
    public void A_collector_renders_only_its_own_nodes_metrics()
    {
        using var mine = new MasterMetrics();
        using var other = new MasterMetrics();
        using var collector = new PrometheusCollector(mine.Meter);
        mine.LeaderChanged();
        other.LeaderChanged();
        other.LeaderChanged();
        var samples = PrometheusText.Parse(collector.Render());
        Assert.Equal(1, Single(samples, "hamaster_raft_leader_changes_total").Value);
    }

    [Fact]
    public void A_busy_loop_iteration_is_recorded_and_a_slow_one_logged_with_its_breakdown()
    {
        using var metrics = new MasterMetrics();
        using var collector = new PrometheusCollector(metrics.Meter);
        var logger = new CapturingLogger();
        var everySlow = new LoopIterationTimer(TimeSpan.Zero);

        everySlow.Begin(); // an idle tick: neither recorded nor logged
        everySlow.Inbox(0);
        everySlow.End(metrics, logger);
        Assert.Empty(logger.Lines);

        everySlow.Begin();
        everySlow.Inbox(3);
        everySlow.Fsync(TimeSpan.FromMilliseconds(4), 7);
        everySlow.Applied(TimeSpan.FromMilliseconds(2), 5);
        everySlow.Snapshot(TimeSpan.FromMilliseconds(9));
        everySlow.End(metrics, logger);
        var line = Assert.Single(logger.Lines);
        Assert.Contains("3 posted items", line, StringComparison.Ordinal);
        Assert.Contains("fsync of 7 entries 4 ms", line, StringComparison.Ordinal);
        Assert.Contains("apply of 5 entries 2 ms", line, StringComparison.Ordinal);
        Assert.Contains("snapshot 9 ms", line, StringComparison.Ordinal);

        // Below the threshold: recorded, not logged; counters start over with each iteration.
        var neverSlow = new LoopIterationTimer(TimeSpan.FromHours(1));
        neverSlow.Begin();
        neverSlow.Inbox(1);
        neverSlow.End(metrics, logger);
        Assert.Single(logger.Lines);
        Assert.Equal(2, Single(PrometheusText.Parse(collector.Render()), "hamaster_raft_loop_iteration_duration_seconds_count").Value);
    }

    private sealed class CapturingLogger : ILogger
    {
        public List<string> Lines { get; } = [];

        public IDisposable? BeginScope<TState>(TState state)
            where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => true;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter) =>
            Lines.Add(formatter(state, exception));
    }
}
