using System.Collections.Concurrent;
using Grpc.Core;
using HaMaster.Metadata;
using HaMaster.Protos.V1;
using HaMaster.Ufs;

namespace HaMaster.Server.Services;

/// <summary>How a read of a path treats the store of the mount it lies under.</summary>
internal readonly record struct MountedRead(LoadMetadataType Load, bool Listing, string PageToken);

/// <summary>
/// Metadata loading (issue 18). The store is read here, by the master serving the read, and what
/// was found is proposed as LoadMetadataCommand entries (forwarded to the leader like any write),
/// so the state machine never reads a store and every master applies the same inodes.
/// </summary>
/// <remarks>Safe for concurrent use: concurrent first listings of one directory share one load.</remarks>
internal sealed class MetadataLoader
{
    /// <summary>Store entries per LoadMetadataCommand (and per store listing page) while a directory loads.</summary>
    internal const int LoadPageEntries = 2000;

    private readonly MetadataStateMachine _machine;
    private readonly MountedStores _stores;
    private readonly JournalProposer _proposer;
    private readonly ForwardedCalls.LeaderCall<LoadMetadataCommand, CommandResult> _loadMetadata;

    // Directory loads in progress on this master: concurrent first listings of one directory share one load.
    private readonly ConcurrentDictionary<(ulong MountId, string Path), Lazy<Task>> _loading = new();

    public MetadataLoader(MetadataStateMachine machine, MountedStores stores, JournalProposer proposer, ForwardedCalls leaderCalls)
    {
        _machine = machine;
        _stores = stores;
        _proposer = proposer;
        _loadMetadata = leaderCalls.Register(FileSystemService.InternalService, "LoadMetadata", LoadMetadataCommand.Parser, CommandResult.Parser, async (r, caller, ct) =>
        {
            JournalProposer.CheckPath(r.Path);
            if (r.Entries.Count > InputLimits.MaxLoadEntriesPerCommand) RequestChecks.Refuse($"{r.Entries.Count} loaded entries, at most {InputLimits.MaxLoadEntriesPerCommand}");
            return await _proposer.ProposeAsync(caller, null, e => e.LoadMetadata = r, ct).ConfigureAwait(false);
        });
    }

    /// <summary>
    /// Loads what the namespace lacks of <paramref name="path"/> from its mount's store: the missing
    /// components of the path (stat by stat), and for a listing the directory's children (all of
    /// them, in pages of <see cref="LoadPageEntries"/>, before the first page is answered). Returns
    /// true when something was proposed. Paths outside mounts and NEVER return at once.
    /// </summary>
    public async Task<bool> LoadAsync(string path, MountedRead read, ServerCallContext context, CancellationToken cancellationToken)
    {
        if (read.Load is not (LoadMetadataType.Once or LoadMetadataType.Always)) return false;

        if (_machine.Mounts.Resolve(path) is not { } resolved) return false;
        var mount = resolved.Mount;
        var components = path.Length == 1 ? [] : path[1..].Split('/');
        var mountDepth = mount.Path[1..].Split('/').Length;
        var state = ServerErrors.Unwrap(_machine.GetLoadState(path));
        if (state.BlockedByFile || state.ExistingDepth < mountDepth) return false;
        var proposed = false;

        if (!state.Exists)
        {
            // ONCE: a directory whose children were all loaded knows the path is not in the store.
            if (read.Load == LoadMetadataType.Once && state.ChildrenLoaded) return false;
            var store = _stores.Get(mount);
            for (var depth = state.ExistingDepth; depth < components.Length; depth++)
            {
                var childPath = Prefix(components, depth + 1);
                var status = await store.GetStatusAsync(MountedStores.StorePath(mount, childPath), cancellationToken).ConfigureAwait(false);
                if (status is null || MountedStores.ToLoaded(status) is not { } entry) return proposed;
                await ProposeLoadAsync(mount, Prefix(components, depth), [entry], complete: false, context).ConfigureAwait(false);
                proposed = true;
                if (!status.IsDirectory) break;
            }
        }
        else if (read.Load == LoadMetadataType.Always && components.Length > mountDepth && (!read.Listing || read.PageToken.Length == 0))
        {
            var store = _stores.Get(mount);
            var status = await store.GetStatusAsync(resolved.StorePath, cancellationToken).ConfigureAwait(false);
            if (status is not null && MountedStores.ToLoaded(status) is { } entry)
            {
                await ProposeLoadAsync(mount, Prefix(components, components.Length - 1), [entry], complete: false, context).ConfigureAwait(false);
                proposed = true;
            }
        }

        if (!read.Listing) return proposed;

        // A follower must see what it just had the leader apply before it looks again.
        if (proposed) await _proposer.ReadBarrierAsync(Consistency.Linearizable, cancellationToken).ConfigureAwait(false);
        state = ServerErrors.Unwrap(_machine.GetLoadState(path));
        if (!state.Exists || !state.DeepestIsDirectory) return proposed;
        var reload = read.Load == LoadMetadataType.Always && read.PageToken.Length == 0;
        if (state.ChildrenLoaded && !reload) return proposed;

        var key = (mount.MountId, path);
        var load = _loading.GetOrAdd(key, _ => new Lazy<Task>(() => LoadChildrenAsync(mount, path, context, cancellationToken)));
        try
        {
            await load.Value.WaitAsync(cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            _loading.TryRemove(new KeyValuePair<(ulong, string), Lazy<Task>>(key, load));
        }

        return true;
    }

    /// <summary>Lists a directory of the store page by page and proposes each page; the next page is
    /// read while the previous one is being replicated.</summary>
    private async Task LoadChildrenAsync(MountPointRecord mount, string path, ServerCallContext context, CancellationToken cancellationToken)
    {
        var store = _stores.Get(mount);
        var storePath = MountedStores.StorePath(mount, path);
        string? token = null;
        Task? previous = null;
        do
        {
            var page = await store.ListAsync(storePath, token, LoadPageEntries, cancellationToken).ConfigureAwait(false);
            if (token is not null && page.ContinuationToken == token) throw new UfsException(UfsErrorKind.Unavailable, $"the store returned the same continuation token twice listing {path}");
            token = page.ContinuationToken;
            var entries = new List<LoadedEntry>(page.Entries.Count);
            foreach (var status in page.Entries)
            {
                if (MountedStores.ToLoaded(status) is { } entry) entries.Add(entry);
            }

            if (previous is not null) await previous.ConfigureAwait(false);
            previous = ProposeLoadAsync(mount, path, entries, complete: token is null, context);
        }
        while (token is not null);

        await previous.ConfigureAwait(false);
    }

    private async Task ProposeLoadAsync(MountPointRecord mount, string directory, IReadOnlyList<LoadedEntry> entries, bool complete, ServerCallContext context)
    {
        var command = new LoadMetadataCommand { Path = directory, MountId = mount.MountId, ChildrenComplete = complete };
        command.Entries.AddRange(entries);
        // A refused entry arrives as the leader's status (JournalProposer maps it there, once).
        await _loadMetadata.InvokeAsync(command, context).ConfigureAwait(false);
    }

    private static string Prefix(string[] components, int count) => count == 0 ? "/" : "/" + string.Join('/', components, 0, count);
}
