using System.Diagnostics;
using Google.Protobuf;
using HaMaster.Protos.V1;
using HaMaster.Raft;

namespace HaMaster.Server.Raft;

internal sealed partial class RaftHost
{
    private Task<SnapshotMetadata>? _snapshotTask;

    // The snapshot's background work (checkpoint and publishing, then garbage collection); Dispose
    // waits for it so none of it outlives the host.
    private Task? _snapshotWork;

    /// <summary>Takes a snapshot now (or joins the one in progress) and completes when it is durable.</summary>
    public Task<SnapshotMetadata> TakeSnapshotAsync(CancellationToken cancellationToken) =>
        InvokeAsync(StartSnapshot).Unwrap().WaitAsync(cancellationToken);

    private void MaybeSnapshot(ulong applied)
    {
        if (!_snapshotInProgress && applied >= _lastSnapshotIndex + (ulong)_options.SnapshotEveryEntries)
        {
            _ = StartSnapshot();
        }
    }

    /// <summary>
    /// Snapshots without stalling the loop: the state machine writes its checkpoint on a pool thread
    /// while the loop keeps appending and applying (a RocksDB checkpoint is a consistent image as of one
    /// applied batch and says which; the Heap store holds applying off while it exports). The loop is
    /// asked only for the cluster configuration as of the index the checkpoint holds; checksumming,
    /// publishing and garbage collection stay off the loop too, and the log is compacted behind the
    /// snapshot once it is durable.
    /// </summary>
    private Task<SnapshotMetadata> StartSnapshot()
    {
        if (_snapshotInProgress && _snapshotTask is not null) return _snapshotTask;
        var index = _stateMachine.AppliedIndex;
        if (index == 0)
        {
            return Task.FromException<SnapshotMetadata>(new ClusterPreconditionException("nothing has been applied yet: no snapshot to take"));
        }

        if (index == _lastSnapshotIndex && _storage.Snapshot is { } current) return Task.FromResult(current);

        _snapshotInProgress = true;
        _clusterStatesDuringSnapshot.Clear();
        _clusterStatesDuringSnapshot.Add((index, _appliedConfig, CurrentClusterState(index).ToByteArray()));
        var term = _stateMachine.AppliedTerm;
        var started = _clock.Elapsed;
        var tcs = new TaskCompletionSource<SnapshotMetadata>(TaskCreationOptions.RunContinuationsAsynchronously);
        _snapshotTask = tcs.Task;
        if (_hooks.Manual)
        {
            // Simulation: every step on the caller's thread, so that a seed replays exactly. A
            // simulated crash propagates to the caller like any other.
            var written = WriteSnapshotAsync(index, term, at => Task.FromResult(ClusterStateAt(at)));
            OnSnapshotCommitted(written.GetAwaiter().GetResult(), started, tcs);
            return tcs.Task;
        }

        var stopping = _stopping.Token;
        _snapshotWork = Task.Run(async () =>
        {
            try
            {
                var meta = await WriteSnapshotAsync(index, term, at => InvokeAsync(() => ClusterStateAt(at)).WaitAsync(stopping)).ConfigureAwait(false);
                Post(() => OnSnapshotCommitted(meta, started, tcs));
            }
            catch (Exception e)
            {
                LogMessages.SnapshotFailed(_logger, index, e);
                tcs.TrySetException(e); // here, not on the loop: it may have stopped
                Post(() =>
                {
                    _snapshotInProgress = false;
                    _clusterStatesDuringSnapshot.Clear();
                });
            }
        }, CancellationToken.None);
        return tcs.Task;
    }

    /// <summary>
    /// Writes the state machine's checkpoint and publishes it with the cluster state as of the index
    /// it holds (asked of the loop through <paramref name="clusterStateAt"/>). Off the loop, except in
    /// a manually driven host.
    /// </summary>
    private async Task<SnapshotMetadata> WriteSnapshotAsync(ulong index, ulong term, Func<ulong, Task<(ClusterConfig Config, byte[] State)>> clusterStateAt)
    {
        var writer = _snapshots.BeginSnapshot(index, term, ReadOnlyMemory<byte>.Empty);
        try
        {
            var (at, atTerm) = _stateMachine.CreateSnapshot(writer.Directory);
            CrashPoint(CrashPoints.SnapshotCheckpointed);
            var (config, state) = await clusterStateAt(at).ConfigureAwait(false);
            if (_snapshots.List().Any(m => m.Index == at && m.Term == atTerm))
            {
                writer.Abort(); // e.g. the same position arrived from the leader meanwhile
            }
            else
            {
                writer.Commit(at, atTerm, state);
            }

            CrashPoint(CrashPoints.SnapshotPublished);
            return new SnapshotMetadata(at, atTerm, config);
        }
        catch
        {
            writer.Abort();
            throw;
        }
    }

    // The cluster state as of each index applied while a snapshot is being written (the first item:
    // as of the index applied when it started), so the snapshot records the configuration as of the
    // index its checkpoint actually holds. Loop thread only.
    private readonly List<(ulong Index, ClusterConfig Config, byte[] State)> _clusterStatesDuringSnapshot = [];

    /// <summary>
    /// The configuration or the member directory changed as of <paramref name="index"/>: persist the
    /// cluster state file, and remember it for a snapshot being written. Loop thread only.
    /// </summary>
    private void ClusterStateChanged(ulong index)
    {
        var state = CurrentClusterState(index);
        _clusterStateFile.Write(state);
        if (_snapshotInProgress)
        {
            _clusterStatesDuringSnapshot.Add((index, _appliedConfig, state.ToByteArray()));
        }
    }

    private ClusterState CurrentClusterState(ulong index = 0) => ClusterStateFile.Create(_appliedConfig, _directory, index);

    // The newest state recorded at or below index; the first item (the state when the snapshot
    // started) is at or below any index a checkpoint taken after that can hold.
    private (ClusterConfig Config, byte[] State) ClusterStateAt(ulong index)
    {
        var i = _clusterStatesDuringSnapshot.Count - 1;
        while (i > 0 && _clusterStatesDuringSnapshot[i].Index > index) i--;
        var (_, config, state) = _clusterStatesDuringSnapshot[i];
        return (config, state);
    }

    private void OnSnapshotCommitted(SnapshotMetadata meta, TimeSpan started, TaskCompletionSource<SnapshotMetadata> tcs)
    {
        var cleanupStarted = Stopwatch.GetTimestamp();
        _snapshotInProgress = false;
        _clusterStatesDuringSnapshot.Clear();
        if (meta.Index > _lastSnapshotIndex)
        {
            // (Not so when a snapshot from the leader was installed while this one was written.)
            _storage.Snapshot = meta;
            _lastSnapshotIndex = meta.Index;
            var keep = (ulong)_options.LogEntriesKeptBehindSnapshot;
            var compactTo = meta.Index > keep ? meta.Index - keep : 0;
            if (compactTo >= _log.FirstIndex && _log.TryGetTerm(compactTo, out var compactTerm) == HaMaster.Journal.TermLookup.Found)
            {
                _log.CompactPrefix(compactTo, compactTerm);
                CrashPoint(CrashPoints.SnapshotLogCompacted);
            }
        }

        _iteration.Snapshot(Stopwatch.GetElapsedTime(cleanupStarted));

        // Older snapshots go only now that the log and the snapshot sender point at this one (kept
        // whatever its rank: it is what followers are sent).
        var pointedAt = _storage.Snapshot;
        void CollectGarbage()
        {
            var protect = pointedAt is null ? null : _snapshots.List().FirstOrDefault(m => m.Index == pointedAt.Index && m.Term == pointedAt.Term);
            _snapshots.CollectGarbage(protect);
        }

        if (_hooks.Manual)
        {
            CollectGarbage();
        }
        else
        {
            _snapshotWork = Task.Run(() =>
            {
                try
                {
                    CollectGarbage();
                }
                catch (Exception e)
                {
                    LogMessages.SnapshotFailed(_logger, meta.Index, e);
                }
            });
        }
        var elapsed = _clock.Elapsed - started;
        LogMessages.SnapshotTaken(_logger, meta.Index, meta.Term, (long)elapsed.TotalMilliseconds);
        Metrics?.SnapshotTaken(elapsed);
        SnapshotTaken?.Invoke(meta, elapsed);
        tcs.TrySetResult(meta);
    }

    /// <summary>Raised on the loop thread after a local snapshot became durable (for metrics).</summary>
    public event Action<SnapshotMetadata, TimeSpan>? SnapshotTaken;

}
