using System.Threading.Channels;
using Grpc.Core;
using HaMaster.Metadata;
using HaMaster.Protos.V1;
using HaMaster.Ufs;

namespace HaMaster.Server.Services.MetadataSync;

/// <summary>
/// Metadata sync (issue 18). The master serving the call reads the store and the namespace, and
/// proposes only the differences as SyncMetadataCommand entries (forwarded to the leader like any
/// write). Nothing is locked: reads and writes go on while a sync lists the store; the Raft loop
/// only applies the (small, bounded) difference pages. A sync cut by a failover fails the call
/// (UNAVAILABLE); the client's retry compares again and proposes what still differs, so it
/// converges: each entry is checked against the namespace as it is when applied.
/// </summary>
/// <remarks>Safe for concurrent use: any number of syncs run at once.</remarks>
internal sealed class MetadataSyncer
{
    /// <summary>Directories a recursive sync compares at once by default, and at most.</summary>
    internal const int DefaultSyncConcurrency = 4, MaxSyncConcurrency = 16;

    /// <summary>How long a SyncMetadata call without a deadline may run.</summary>
    internal static readonly TimeSpan SyncCallTimeout = TimeSpan.FromHours(1);

    private readonly SyncTimes _syncTimes = new();
    private readonly MetadataStateMachine _machine;
    private readonly MountedStores _stores;
    private readonly JournalProposer _proposer;
    private readonly MetadataLoader _loader;
    private readonly ReadPermissions? _readPermissions;
    private readonly Observability.MasterMetrics? _metrics;
    private readonly ForwardedCalls.LeaderCall<SyncMetadataCommand, CommandResult> _syncMetadata;

    public MetadataSyncer(MetadataStateMachine machine, MountedStores stores, JournalProposer proposer, MetadataLoader loader, ForwardedCalls leaderCalls,
        ReadPermissions? readPermissions, Observability.MasterMetrics? metrics)
    {
        _machine = machine;
        _stores = stores;
        _proposer = proposer;
        _loader = loader;
        _readPermissions = readPermissions;
        _metrics = metrics;
        _syncMetadata = leaderCalls.Register(FileSystemService.InternalService, "SyncMetadata", SyncMetadataCommand.Parser, CommandResult.Parser, async (r, caller, ct) =>
        {
            JournalProposer.CheckPath(r.Path);
            if (r.Upserts.Count + r.Removed.Count > InputLimits.MaxLoadEntriesPerCommand) RequestChecks.Refuse($"{r.Upserts.Count + r.Removed.Count} differences, at most {InputLimits.MaxLoadEntriesPerCommand}");
            return await _proposer.ProposeAsync(caller, null, e => e.SyncMetadata = r, ct).ConfigureAwait(false);
        });
    }

    /// <summary>The SyncMetadata call: <paramref name="request"/>'s path (and with recursive its subtree) against its store.</summary>
    public async Task<SyncMetadataResponse> SyncAsync(SyncMetadataRequest request, ServerCallContext context)
    {
        JournalProposer.CheckPath(request.Path);
        if (request.Concurrency > MaxSyncConcurrency) RequestChecks.Refuse($"concurrency {request.Concurrency} is above the maximum {MaxSyncConcurrency}");
        using var timeout = CallDeadline.Link(context, SyncCallTimeout);
        await _proposer.ReadBarrierAsync(Consistency.Linearizable, timeout.Token).ConfigureAwait(false);
        _readPermissions?.Check(CallerIdentity.From(context), request.Path, ReadPermissions.Target.Read);
        if (_machine.Mounts.Resolve(request.Path) is not { } resolved)
        {
            throw ServerErrors.Status(StatusCode.NotFound, $"{request.Path}: is not under a mount (only mounted stores are synced)");
        }

        var run = new SyncRun(resolved.Mount, context, _metrics, timeout.Token);
        _metrics?.SyncRunning(+1);
        try
        {
            var directory = await SyncEntryAsync(run, request.Path).ConfigureAwait(false);
            if (directory)
            {
                var concurrency = request.Concurrency == 0 ? DefaultSyncConcurrency : (int)request.Concurrency;
                await SyncTreeAsync(run, request.Path, request.Recursive, concurrency).ConfigureAwait(false);
            }
        }
        finally
        {
            _metrics?.SyncRunning(-1);
        }

        var response = run.Response;
        response.DurationMs = run.Elapsed.ElapsedMilliseconds;
        return response;
    }

    /// <summary>
    /// The <c>sync_interval_ms</c> of a GetStatus or ListStatus: syncs the path (a listing: the
    /// directory's children, on the first page) when it was not synced in the last
    /// <paramref name="intervalMs"/> ms. Returns true when something was proposed.
    /// </summary>
    public async Task<bool> SyncBeforeReadAsync(string path, bool listing, string pageToken, long intervalMs, ServerCallContext context, CancellationToken cancellationToken)
    {
        if (listing && pageToken.Length != 0) return false;
        if (_machine.Mounts.Resolve(path) is not { } resolved) return false;
        var now = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
        if (intervalMs > 0 && now - LastSyncMs(resolved.Mount, path, listing) < intervalMs) return false;
        var run = new SyncRun(resolved.Mount, context, _metrics, cancellationToken);
        var directory = await SyncEntryAsync(run, path).ConfigureAwait(false);
        if (listing && directory) await SyncTreeAsync(run, path, recursive: false, concurrency: 1).ConfigureAwait(false);
        else _syncTimes.Record(resolved.Mount.MountId, path, now);
        return run.Response.LogEntries > 0;
    }

    /// <summary>The later of the state machine's and this master's last sync of the path (a file: of its parent directory).</summary>
    private long LastSyncMs(MountPointRecord mount, string path, bool listing)
    {
        var own = _syncTimes.Get(mount.MountId, path);
        var directory = listing ? path : path == mount.Path ? path : ParentOf(path);
        var recorded = _machine.GetStatus(directory) is { IsOk: true, Value: { } info } ? info.LastSyncMs : 0;
        return Math.Max(Math.Max(own, recorded), _syncTimes.Get(mount.MountId, directory));
    }

    /// <summary>
    /// Brings one path in line with the store: loads missing ancestors, then creates, updates or
    /// removes the path itself through its parent. Returns true when the path is a directory in the
    /// store and the namespace (its children are then compared by <see cref="SyncTreeAsync"/>).
    /// </summary>
    private async Task<bool> SyncEntryAsync(SyncRun run, string path)
    {
        var mount = run.Mount;
        var store = _stores.Get(mount);
        if (path == mount.Path) return true;
        var parent = ParentOf(path);
        if (await _loader.LoadAsync(parent, new MountedRead(LoadMetadataType.Once, Listing: false, ""), run.Context, run.Token).ConfigureAwait(false))
        {
            await _proposer.ReadBarrierAsync(Consistency.Linearizable, run.Token).ConfigureAwait(false);
        }

        if (_machine.GetStatus(parent) is not { IsOk: true, Value.Kind: InodeKind.Directory })
        {
            if (await store.GetStatusAsync(MountedStores.StorePath(mount, path), run.Token).ConfigureAwait(false) is null)
            {
                throw ServerErrors.Status(StatusCode.NotFound, $"{path}: exists neither in the namespace nor in the store");
            }

            throw ServerErrors.Status(StatusCode.FailedPrecondition, $"{path}: its parent {parent} is not a directory in the namespace");
        }

        var status = await store.GetStatusAsync(MountedStores.StorePath(mount, path), run.Token).ConfigureAwait(false);
        var existing = _machine.GetStatus(path) is { IsOk: true, Value: { } info } ? info : null;
        if (status is null && existing is null) throw ServerErrors.Status(StatusCode.NotFound, $"{path}: exists neither in the namespace nor in the store");
        var diff = SyncDiff.Compare(status is null ? [] : [status], existing is null ? [] : [existing]);
        run.Compared(1);
        if (diff.Count > 0)
        {
            var command = SyncDiff.Pages(parent, mount.MountId, diff, MetadataLoader.LoadPageEntries)[0];
            command.Complete = false; // one entry of the parent was compared, not all of its children
            await ProposeSyncAsync(run, command).ConfigureAwait(false);
            await _proposer.ReadBarrierAsync(Consistency.Linearizable, run.Token).ConfigureAwait(false);
        }

        return status is { IsDirectory: true } && _machine.GetStatus(path) is { IsOk: true, Value.Kind: InodeKind.Directory };
    }

    /// <summary>Compares <paramref name="root"/>'s children (and with <paramref name="recursive"/> every
    /// subdirectory's) with the store, <paramref name="concurrency"/> directories at a time.</summary>
    private async Task SyncTreeAsync(SyncRun run, string root, bool recursive, int concurrency)
    {
        var queue = Channel.CreateUnbounded<string>();
        var pending = 1;
        queue.Writer.TryWrite(root);
        using var failed = CancellationTokenSource.CreateLinkedTokenSource(run.Token);
        var workers = new Task[concurrency];
        for (var w = 0; w < concurrency; w++)
        {
            workers[w] = Task.Run(async () =>
            {
                try
                {
                    await foreach (var directory in queue.Reader.ReadAllAsync(failed.Token).ConfigureAwait(false))
                    {
                        try
                        {
                            var subdirectories = await SyncDirectoryAsync(run, directory).ConfigureAwait(false);
                            if (recursive)
                            {
                                foreach (var name in subdirectories)
                                {
                                    Interlocked.Increment(ref pending);
                                    queue.Writer.TryWrite(directory == "/" ? "/" + name : directory + "/" + name);
                                }
                            }
                        }
                        finally
                        {
                            if (Interlocked.Decrement(ref pending) == 0) queue.Writer.TryComplete();
                        }
                    }
                }
                catch
                {
                    queue.Writer.TryComplete();
                    await failed.CancelAsync().ConfigureAwait(false);
                    throw;
                }
            }, CancellationToken.None);
        }

        try
        {
            await Task.WhenAll(workers).ConfigureAwait(false);
        }
        catch when (workers.FirstOrDefault(t => t.IsFaulted && t.Exception?.InnerException is not OperationCanceledException) is { } first)
        {
            // The first real failure, not the cancellations it caused in the other workers.
            throw first.Exception!.InnerException!;
        }
    }

    /// <summary>Compares one directory's children with the store and proposes the differences;
    /// returns the store's subdirectories that the namespace now holds as directories.</summary>
    private async Task<List<string>> SyncDirectoryAsync(SyncRun run, string path)
    {
        var mount = run.Mount;
        if (_machine.GetLoadState(path) is not { IsOk: true, Value: { Exists: true, DeepestIsDirectory: true } directory }) return [];
        var store = _stores.Get(mount);
        var storePath = MountedStores.StorePath(mount, path);
        var entries = new List<UfsStatus>();
        string? token = null;
        do
        {
            UfsListing page;
            try
            {
                page = await store.ListAsync(storePath, token, MetadataLoader.LoadPageEntries, run.Token).ConfigureAwait(false);
            }
            catch (UfsException e) when (e.Kind is UfsErrorKind.NotFound or UfsErrorKind.FailedPrecondition && path != mount.Path)
            {
                return []; // removed or replaced in the store since its parent was compared: the parent's next sync removes it
            }

            if (token is not null && page.ContinuationToken == token) throw new UfsException(UfsErrorKind.Unavailable, $"the store returned the same continuation token twice listing {path}");
            token = page.ContinuationToken;
            entries.AddRange(page.Entries);
        }
        while (token is not null);

        var children = new List<Protos.V1.FileInfo>();
        var next = string.Empty;
        for (long round = 0; round < int.MaxValue; round++)
        {
            var listed = ServerErrors.Unwrap(_machine.ListStatus(path, uint.MaxValue, next));
            children.AddRange(listed.Entries);
            if (listed.NextPageToken.Length == 0 || listed.NextPageToken == next) break;
            next = listed.NextPageToken;
        }

        var diff = SyncDiff.Compare(entries, children);
        run.Compared(entries.Count);
        run.Directory();
        if (diff.Count > 0 || !directory.ChildrenLoaded)
        {
            foreach (var command in SyncDiff.Pages(path, mount.MountId, diff, MetadataLoader.LoadPageEntries))
            {
                await ProposeSyncAsync(run, command).ConfigureAwait(false);
            }

            // The subdirectories just created were applied on the leader; this master reads them next.
            await _proposer.ReadBarrierAsync(Consistency.Linearizable, run.Token).ConfigureAwait(false);
        }
        else
        {
            _syncTimes.Record(mount.MountId, path, DateTimeOffset.UtcNow.ToUnixTimeMilliseconds());
        }

        return diff.Subdirectories;
    }

    private async Task ProposeSyncAsync(SyncRun run, SyncMetadataCommand command)
    {
        // A refused entry arrives as the leader's status (JournalProposer maps it there, once).
        var result = await _syncMetadata.InvokeAsync(command, run.Context).ConfigureAwait(false);
        run.Applied(result.SyncCounts);
    }

    private static string ParentOf(string path)
    {
        var slash = path.LastIndexOf('/');
        return slash == 0 ? "/" : path[..slash];
    }
}
