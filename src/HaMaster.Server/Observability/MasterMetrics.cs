using System.Diagnostics;
using System.Diagnostics.Metrics;
using Grpc.Core;

namespace HaMaster.Server.Observability;

/// <summary>
/// The master's instruments (meter "HaMaster"), exported at <c>/metrics</c> by
/// <see cref="PrometheusCollector"/>. Recording methods are thread-safe and allocation-light.
/// </summary>
internal sealed class MasterMetrics : IDisposable
{
    public const string MeterName = "HaMaster";
    private readonly Meter _meter = new(MeterName, "1.0");
    private readonly Counter<long> _rpcCalls;
    private readonly Histogram<double> _rpcDuration;
    private readonly Histogram<double> _fsyncDuration;
    private readonly Histogram<long> _appendBatch;
    private readonly Histogram<long> _applyBatch;
    private readonly Histogram<double> _snapshotDuration;
    private readonly Histogram<double> _loopIteration;
    private readonly Counter<long> _leaderChanges;
    private readonly Counter<long> _workersDeclaredLost;
    private readonly Counter<long> _peerRejected;
    private readonly Counter<long> _ttlExpired;
    private readonly Counter<long> _syncDirectories;
    private readonly Counter<long> _syncEntries;
    private readonly UpDownCounter<long> _syncsInProgress;

    public MasterMetrics()
    {
        _rpcCalls = _meter.CreateCounter<long>("hamaster_rpc_calls", description: "gRPC calls served, by method and status code.");
        _rpcDuration = _meter.CreateHistogram<double>("hamaster_rpc_duration", "s", "gRPC call latency by method.");
        _fsyncDuration = _meter.CreateHistogram<double>("hamaster_raft_fsync_duration", "s", "Time to make a Raft log append durable (one fsync per group commit).");
        _appendBatch = _meter.CreateHistogram<long>("hamaster_raft_append_batch_entries", description: "Entries persisted per Raft log append (group commit size).");
        _applyBatch = _meter.CreateHistogram<long>("hamaster_raft_apply_batch_entries", description: "Committed entries applied per state-machine batch.");
        _snapshotDuration = _meter.CreateHistogram<double>("hamaster_snapshot_duration", "s", "Time to take and publish a snapshot.");
        _loopIteration = _meter.CreateHistogram<double>("hamaster_raft_loop_iteration_duration", "s", "Busy time of one Raft loop iteration (posted work, fsync, apply, snapshot); long ones stall every write.");
        _leaderChanges = _meter.CreateCounter<long>("hamaster_raft_leader_changes", description: "Times this master saw the leader change.");
        _workersDeclaredLost = _meter.CreateCounter<long>("hamaster_workers_declared_lost", description: "Workers this master declared lost as leader.");
        _ttlExpired = _meter.CreateCounter<long>("hamaster_ttl_expired", description: "Inodes whose time to live ran out and were acted on by this master as leader, by action (delete, free).");
        _syncDirectories = _meter.CreateCounter<long>("hamaster_ufs_sync_directories", description: "Directories a metadata sync served by this master compared with their store (progress of a running sync).");
        _syncEntries = _meter.CreateCounter<long>("hamaster_ufs_sync_entries_compared", description: "Store entries a metadata sync served by this master compared with the namespace (progress of a running sync).");
        _syncsInProgress = _meter.CreateUpDownCounter<long>("hamaster_ufs_syncs_in_progress", description: "SyncMetadata calls this master is serving now.");
        _peerRejected = _meter.CreateCounter<long>("hamaster_peer_rejected_messages", description: "Peer calls and Raft messages refused, by reason (unauthenticated, unknown_sender, wrong_recipient).");
    }

    public Meter Meter => _meter;

    /// <summary>Adds observable gauges read at scrape time.</summary>
    public void ObserveGauge(string name, Func<double> read, string? unit = null, string? description = null) =>
        _meter.CreateObservableGauge(name, read, unit, description);

    public void ObserveCounter(string name, Func<long> read, string? description = null) =>
        _meter.CreateObservableCounter(name, read, description: description);

    /// <summary>A monotonically increasing total with a unit (e.g. seconds), read at scrape time.</summary>
    public void ObserveCounter(string name, Func<double> read, string unit, string? description = null) =>
        _meter.CreateObservableCounter(name, read, unit, description);

    /// <summary>
    /// Garbage-collector totals of this process: pause time (every stop of managed threads) and
    /// collections per generation. Long pauses show up directly in request tail latency.
    /// </summary>
    public void ObserveGarbageCollector()
    {
        ObserveCounter("hamaster_process_gc_pause", () => GC.GetTotalPauseDuration().TotalSeconds, "s", "Total time managed threads were paused by the garbage collector.");
        _meter.CreateObservableCounter(
            "hamaster_process_gc_collections",
            () => new[]
            {
                new Measurement<long>(GC.CollectionCount(0), new KeyValuePair<string, object?>("generation", "0")),
                new Measurement<long>(GC.CollectionCount(1), new KeyValuePair<string, object?>("generation", "1")),
                new Measurement<long>(GC.CollectionCount(2), new KeyValuePair<string, object?>("generation", "2")),
            },
            description: "Garbage collections by generation (a generation-2 collection also counts for 0 and 1).");
    }

    public void RpcCompleted(string method, StatusCode code, TimeSpan elapsed)
    {
        var m = new KeyValuePair<string, object?>("method", method);
        _rpcCalls.Add(1, m, new KeyValuePair<string, object?>("code", code.ToString()));
        _rpcDuration.Record(elapsed.TotalSeconds, m);
    }

    public void Fsync(TimeSpan elapsed, int entries)
    {
        _fsyncDuration.Record(elapsed.TotalSeconds);
        _appendBatch.Record(entries);
    }

    public void Applied(int entries) => _applyBatch.Record(entries);

    public void SnapshotTaken(TimeSpan elapsed) => _snapshotDuration.Record(elapsed.TotalSeconds);

    public void LoopIteration(TimeSpan elapsed) => _loopIteration.Record(elapsed.TotalSeconds);

    public void LeaderChanged() => _leaderChanges.Add(1);

    public void WorkerDeclaredLost() => _workersDeclaredLost.Add(1);

    /// <summary>Counts inodes expired by the TTL checker (<paramref name="action"/>: delete or free).</summary>
    public void TtlExpired(string action, long count) => _ttlExpired.Add(count, new KeyValuePair<string, object?>("action", action));

    /// <summary>Progress of a metadata sync: <paramref name="directories"/> more directories and <paramref name="entries"/> more store entries compared.</summary>
    public void SyncProgress(long directories, long entries)
    {
        if (directories > 0) _syncDirectories.Add(directories);
        if (entries > 0) _syncEntries.Add(entries);
    }

    /// <summary>A SyncMetadata call started (+1) or ended (-1) on this master.</summary>
    public void SyncRunning(int delta) => _syncsInProgress.Add(delta);

    /// <summary>Counts a refused peer call or Raft message (<paramref name="reason"/>: a short snake_case word).</summary>
    public void PeerRejected(string reason) => _peerRejected.Add(1, new KeyValuePair<string, object?>("reason", reason));

    public void Dispose() => _meter.Dispose();
}

/// <summary>Records every call's method, status code and latency (the outermost interceptor, so it sees the final status).</summary>
internal sealed class RpcMetricsInterceptor(MasterMetrics metrics) : Services.CallInterceptor
{
    protected override async Task<T> InterceptAsync<T>(ServerCallContext context, Func<Task<T>> continuation)
    {
        var started = Stopwatch.GetTimestamp();
        var code = StatusCode.OK;
        try
        {
            return await continuation().ConfigureAwait(false);
        }
        catch (RpcException e)
        {
            code = e.StatusCode;
            throw;
        }
        catch (OperationCanceledException)
        {
            code = context.Deadline <= DateTime.UtcNow ? StatusCode.DeadlineExceeded : StatusCode.Cancelled;
            throw;
        }
        catch
        {
            code = StatusCode.Internal;
            throw;
        }
        finally
        {
            metrics.RpcCompleted(context.Method, code, Stopwatch.GetElapsedTime(started));
        }
    }
}
