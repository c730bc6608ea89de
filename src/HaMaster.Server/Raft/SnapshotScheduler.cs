using System.Diagnostics;
using HaMaster.Journal;
using HaMaster.Raft;
using Microsoft.Extensions.Logging;

namespace HaMaster.Server.Raft;

/// <summary>
/// Takes the local snapshots: one every <c>SnapshotEveryEntries</c> applied entries or on request, then
/// compacts the log behind it (keeping <c>LogEntriesKeptBehindSnapshot</c> entries for slow followers)
/// and collects older snapshots (the store keeps its configured number, and always the one the log and
/// the snapshot sender point at).
///
/// Snapshots do not stall the loop: the state machine writes its checkpoint on a pool thread while the
/// loop keeps appending and applying (a RocksDB checkpoint is a consistent image as of one applied batch
/// and says which; the Heap store holds applying off while it exports). The loop is asked only for the
/// cluster configuration as of the index the checkpoint holds, which is why every membership change
/// applied meanwhile is recorded here (<see cref="ClusterStateChanged"/>). With
/// <see cref="RaftHostHooks.Manual"/> every step runs on the caller's thread, so a seed replays exactly.
///
/// Called only from the Raft loop thread, except where a member says otherwise.
/// </summary>
internal sealed class SnapshotScheduler
{
    private readonly SnapshotStore _store;
    private readonly IStateMachineHost _machine;
    private readonly JournalRaftStorage _storage;
    private readonly RaftLog _log;
    private readonly ulong _everyEntries;
    private readonly ulong _keptBehind;
    private readonly RaftHostHooks _hooks;
    private readonly ILogger _logger;
    private readonly Action<Action> _post;
    private readonly CancellationToken _stopping;

    // The cluster state as of each index applied while a snapshot is being written (the first item: as
    // of the index applied when it started), so the snapshot records the configuration as of the index
    // its checkpoint actually holds.
    private readonly List<(ulong Index, ClusterConfig Config, byte[] State)> _statesDuringSnapshot = [];
    private Task<SnapshotMetadata>? _current;

    // post runs work on the loop thread (the off-loop steps report back through it); stopping is
    // cancelled when the loop stops.
    public SnapshotScheduler(
        SnapshotStore store, IStateMachineHost machine, JournalRaftStorage storage, RaftLog log,
        long everyEntries, long keptBehind, RaftHostHooks hooks, ILogger logger, Action<Action> post, CancellationToken stopping)
    {
        _store = store;
        _machine = machine;
        _storage = storage;
        _log = log;
        _everyEntries = (ulong)everyEntries;
        _keptBehind = (ulong)keptBehind;
        _hooks = hooks;
        _logger = logger;
        _post = post;
        _stopping = stopping;
    }

    /// <summary>Index of the newest snapshot (taken here, installed from the leader, or found at start).</summary>
    public ulong LastIndex { get; set; }

    /// <summary>True while a snapshot is being written.</summary>
    public bool InProgress { get; private set; }

    /// <summary>The snapshot's background work (checkpoint and publishing, then garbage collection); Dispose waits for it.</summary>
    public Task? BackgroundWork { get; private set; }

    /// <summary>Raised on the loop thread after a local snapshot became durable and the log was compacted behind it,
    /// with the whole snapshot's time and the loop's share of it.</summary>
    public event Action<SnapshotMetadata, TimeSpan, TimeSpan>? Taken;

    /// <summary>Starts a snapshot when <c>SnapshotEveryEntries</c> entries were applied since the last one.</summary>
    public void MaybeStart(ulong applied, Func<ulong, (ClusterConfig Config, byte[] State)> clusterState)
    {
        if (!InProgress && applied >= LastIndex + _everyEntries) _ = Start(clusterState);
    }

    /// <summary>Takes a snapshot now (or joins the one in progress); completes when it is durable.</summary>
    /// <param name="clusterState">The cluster state as of an index, as the loop knows it now.</param>
    public Task<SnapshotMetadata> Start(Func<ulong, (ClusterConfig Config, byte[] State)> clusterState)
    {
        if (InProgress && _current is not null) return _current;
        var index = _machine.AppliedIndex;
        if (index == 0)
        {
            return Task.FromException<SnapshotMetadata>(new ClusterPreconditionException("nothing has been applied yet: no snapshot to take"));
        }

        if (index == LastIndex && _storage.Snapshot is { } current) return Task.FromResult(current);

        InProgress = true;
        _statesDuringSnapshot.Clear();
        var (config, state) = clusterState(index);
        _statesDuringSnapshot.Add((index, config, state));
        var term = _machine.AppliedTerm;
        var started = Stopwatch.GetTimestamp();
        var tcs = new TaskCompletionSource<SnapshotMetadata>(TaskCreationOptions.RunContinuationsAsynchronously);
        _current = tcs.Task;
        if (_hooks.Manual)
        {
            // A simulated crash propagates to the caller like any other.
            var written = WriteAsync(index, term, at => Task.FromResult(StateAt(at)));
            Committed(written.GetAwaiter().GetResult(), started, tcs);
            return tcs.Task;
        }

        BackgroundWork = Task.Run(async () =>
        {
            try
            {
                var meta = await WriteAsync(index, term, AskLoopForStateAt).ConfigureAwait(false);
                _post(() => Committed(meta, started, tcs));
            }
            catch (Exception e)
            {
                LogMessages.SnapshotFailed(_logger, index, e);
                tcs.TrySetException(e); // here, not on the loop: it may have stopped
                _post(() =>
                {
                    InProgress = false;
                    _statesDuringSnapshot.Clear();
                });
            }
        }, CancellationToken.None);
        return tcs.Task;
    }

    private Task<(ClusterConfig Config, byte[] State)> AskLoopForStateAt(ulong index)
    {
        var answer = new TaskCompletionSource<(ClusterConfig, byte[])>(TaskCreationOptions.RunContinuationsAsynchronously);
        _post(() => answer.TrySetResult(StateAt(index)));
        return answer.Task.WaitAsync(_stopping);
    }

    /// <summary>
    /// Writes the state machine's checkpoint and publishes it with the cluster state as of the index it
    /// holds (asked of the loop through <paramref name="clusterStateAt"/>). Off the loop, except in a
    /// manually driven host.
    /// </summary>
    private async Task<SnapshotMetadata> WriteAsync(ulong index, ulong term, Func<ulong, Task<(ClusterConfig Config, byte[] State)>> clusterStateAt)
    {
        var writer = _store.BeginSnapshot(index, term, ReadOnlyMemory<byte>.Empty);
        try
        {
            var (at, atTerm) = _machine.CreateSnapshot(writer.Directory);
            _hooks.CrashPoint?.Invoke(CrashPoints.SnapshotCheckpointed);
            var (config, state) = await clusterStateAt(at).ConfigureAwait(false);
            if (_store.List().Any(m => m.Index == at && m.Term == atTerm))
            {
                writer.Abort(); // e.g. the same position arrived from the leader meanwhile
            }
            else
            {
                writer.Commit(at, atTerm, state);
            }

            _hooks.CrashPoint?.Invoke(CrashPoints.SnapshotPublished);
            return new SnapshotMetadata(at, atTerm, config);
        }
        catch
        {
            writer.Abort();
            throw;
        }
    }

    /// <summary>The configuration or the member directory changed as of <paramref name="index"/>: remembered for a snapshot being written.</summary>
    public void ClusterStateChanged(ulong index, ClusterConfig config, Func<byte[]> state)
    {
        if (InProgress) _statesDuringSnapshot.Add((index, config, state()));
    }

    /// <summary>
    /// The newest cluster state recorded at or below <paramref name="index"/>; the first one (the state
    /// when the snapshot started) is at or below any index a checkpoint taken after that can hold.
    /// </summary>
    public (ClusterConfig Config, byte[] State) StateAt(ulong index)
    {
        var i = _statesDuringSnapshot.Count - 1;
        while (i > 0 && _statesDuringSnapshot[i].Index > index) i--;
        var (_, config, state) = _statesDuringSnapshot[i];
        return (config, state);
    }

    /// <summary>The log index to compact up to behind a snapshot at <paramref name="snapshotIndex"/> (0: none).</summary>
    public ulong CompactionPoint(ulong snapshotIndex) => snapshotIndex > _keptBehind ? snapshotIndex - _keptBehind : 0;

    private void Committed(SnapshotMetadata meta, long started, TaskCompletionSource<SnapshotMetadata> tcs)
    {
        var cleanupStarted = Stopwatch.GetTimestamp();
        InProgress = false;
        _statesDuringSnapshot.Clear();
        if (meta.Index > LastIndex)
        {
            // (Not so when a snapshot from the leader was installed while this one was written.)
            _storage.Snapshot = meta;
            LastIndex = meta.Index;
            var compactTo = CompactionPoint(meta.Index);
            if (compactTo >= _log.FirstIndex && _log.TryGetTerm(compactTo, out var compactTerm) == TermLookup.Found)
            {
                _log.CompactPrefix(compactTo, compactTerm);
                _hooks.CrashPoint?.Invoke(CrashPoints.SnapshotLogCompacted);
            }
        }

        var cleanup = Stopwatch.GetElapsedTime(cleanupStarted);

        // Older snapshots go only now that the log and the snapshot sender point at this one (kept
        // whatever its rank: it is what followers are sent).
        var pointedAt = _storage.Snapshot;
        if (_hooks.Manual)
        {
            CollectGarbage(_store, pointedAt);
        }
        else
        {
            BackgroundWork = Task.Run(() =>
            {
                try
                {
                    CollectGarbage(_store, pointedAt);
                }
                catch (Exception e)
                {
                    LogMessages.SnapshotFailed(_logger, meta.Index, e);
                }
            });
        }

        var elapsed = Stopwatch.GetElapsedTime(started);
        LogMessages.SnapshotTaken(_logger, meta.Index, meta.Term, (long)elapsed.TotalMilliseconds);
        Taken?.Invoke(meta, elapsed, cleanup);
        tcs.TrySetResult(meta);
    }

    /// <summary>Deletes all but the store's newest snapshots, never the one at <paramref name="pointedAt"/>. Any thread.</summary>
    public static int CollectGarbage(SnapshotStore store, SnapshotMetadata? pointedAt)
    {
        var protect = pointedAt is null ? null : store.List().FirstOrDefault(m => m.Index == pointedAt.Index && m.Term == pointedAt.Term);
        return store.CollectGarbage(protect);
    }

    /// <summary>A snapshot from the leader was installed; one of our own being written may land after it.</summary>
    public void Installed(SnapshotMetadata meta, Func<byte[]> state)
    {
        ClusterStateChanged(meta.Index, meta.Config, state);
        LastIndex = meta.Index;
    }
}
