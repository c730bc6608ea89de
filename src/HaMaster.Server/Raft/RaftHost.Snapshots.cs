using Google.Protobuf;
using HaMaster.Protos.V1;
using HaMaster.Raft;

namespace HaMaster.Server.Raft;

internal sealed partial class RaftHost
{
    private Task<SnapshotMetadata>? _snapshotTask;

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
    /// A RocksDB checkpoint (hard links: cheap) is taken on the loop thread, so it captures
    /// exactly the applied index; checksumming the files and publishing the snapshot happen
    /// in the background, and the log is compacted behind it once it is durable.
    /// </summary>
    private Task<SnapshotMetadata> StartSnapshot()
    {
        if (_snapshotInProgress && _snapshotTask is not null) return _snapshotTask;
        var index = _stateMachine.AppliedIndex;
        var term = _stateMachine.AppliedTerm;
        if (index == 0 || (index == _lastSnapshotIndex && _storage.Snapshot is { } current))
        {
            return index == 0
                ? Task.FromException<SnapshotMetadata>(new ClusterPreconditionException("nothing has been applied yet: no snapshot to take"))
                : Task.FromResult(_storage.Snapshot!);
        }

        var meta = new SnapshotMetadata(index, term, _appliedConfig);
        var state = ClusterStateFile.Create(_appliedConfig, _directory);
        var writer = _snapshots.BeginSnapshot(index, term, state.ToByteArray());
        try
        {
            _stateMachine.CreateSnapshot(writer.Directory);
        }
        catch
        {
            writer.Abort();
            throw;
        }

        _snapshotInProgress = true;
        var started = _clock.Elapsed;
        var tcs = new TaskCompletionSource<SnapshotMetadata>(TaskCreationOptions.RunContinuationsAsynchronously);
        _snapshotTask = tcs.Task;
        _ = Task.Run(() =>
        {
            try
            {
                writer.Commit();
                Post(() => OnSnapshotCommitted(meta, started, tcs));
            }
            catch (Exception e)
            {
                writer.Abort();
                Post(() =>
                {
                    _snapshotInProgress = false;
                    LogMessages.SnapshotFailed(_logger, index, e);
                    tcs.TrySetException(e);
                });
            }
        });
        return tcs.Task;
    }

    private void OnSnapshotCommitted(SnapshotMetadata meta, TimeSpan started, TaskCompletionSource<SnapshotMetadata> tcs)
    {
        _snapshotInProgress = false;
        _storage.Snapshot = meta;
        _lastSnapshotIndex = meta.Index;
        var keep = (ulong)_options.LogEntriesKeptBehindSnapshot;
        var compactTo = meta.Index > keep ? meta.Index - keep : 0;
        if (compactTo >= _log.FirstIndex && _log.TryGetTerm(compactTo, out var compactTerm) == HaMaster.Journal.TermLookup.Found)
        {
            _log.CompactPrefix(compactTo, compactTerm);
        }

        _snapshots.CollectGarbage();
        var elapsed = _clock.Elapsed - started;
        LogMessages.SnapshotTaken(_logger, meta.Index, meta.Term, (long)elapsed.TotalMilliseconds);
        Metrics?.SnapshotTaken(elapsed);
        SnapshotTaken?.Invoke(meta, elapsed);
        tcs.TrySetResult(meta);
    }

    /// <summary>Raised on the loop thread after a local snapshot became durable (for metrics).</summary>
    public event Action<SnapshotMetadata, TimeSpan>? SnapshotTaken;

    /// <summary>The core accepted a snapshot from the leader: replace the state machine with it.</summary>
    private void RestoreFromReceivedSnapshot(SnapshotMetadata meta)
    {
        var manifest = _snapshots.List().FirstOrDefault(m => m.Index == meta.Index && m.Term == meta.Term)
            ?? throw new InvalidOperationException($"snapshot {meta.Index}/{meta.Term} accepted by the core is not in the snapshot store");
        _stateMachine.RestoreSnapshot(_snapshots.PathOf(manifest));
        var state = ClusterState.Parser.ParseFrom(manifest.Config.Span);
        _appliedConfig = meta.Config;
        _directory = state.Directory;
        _clusterStateFile.Write(ClusterStateFile.Create(_appliedConfig, _directory));
        _lastSnapshotIndex = meta.Index;
        foreach (var index in _pending.Keys.Where(i => i <= meta.Index).ToList())
        {
            _pending.Remove(index, out var p);
            p!.Completion.TrySetException(new ProposalLostException($"entry {index} was superseded by a snapshot from the leader; retry"));
        }

        ReleaseAppliedWaiters(_stateMachine.AppliedIndex);
        LogMessages.SnapshotInstalled(_logger, meta.Index, meta.Term);
    }

    /// <summary>Current cluster state bytes (Raft configuration + addresses) for a snapshot sender.</summary>
    public ByteString CurrentClusterStateBytes() => ClusterStateFile.Create(_appliedConfig, _directory).ToByteString();
}
