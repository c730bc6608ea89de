using System.Collections.Concurrent;
using Grpc.Core;
using HaMaster.Metadata;
using HaMaster.Protos.V1;
using HaMaster.Ufs;

namespace HaMaster.Server.Services;

/// <summary>
/// Mount table calls and metadata loading (issue 18). The store is read here, by the master serving
/// the call (Mount and UpdateMount: by the leader, before proposing), and what was found is proposed
/// as LoadMetadataCommand entries (forwarded to the leader like any write), so the state machine never
/// reads a store and every master applies the same inodes.
/// </summary>
internal sealed partial class FileSystemService
{
    /// <summary>Store entries per LoadMetadataCommand (and per store listing page) while a directory loads.</summary>
    internal const int LoadPageEntries = 2000;

    private const string InternalService = "hamaster.internal.Metadata";

    private readonly MountedStores _stores;
    private readonly ForwardedCalls.LeaderCall<MountRequest, MountResponse> _mount;
    private readonly ForwardedCalls.LeaderCall<UnmountRequest, UnmountResponse> _unmount;
    private readonly ForwardedCalls.LeaderCall<UpdateMountRequest, UpdateMountResponse> _updateMount;
    private readonly ForwardedCalls.LeaderCall<LoadMetadataCommand, CommandResult> _loadMetadata;

    // Directory loads in progress on this master: concurrent first listings of one directory share one load.
    private readonly ConcurrentDictionary<(ulong MountId, string Path), Lazy<Task>> _loading = new();

    /// <summary>How a read of a path treats the store of the mount it lies under.</summary>
    private readonly record struct MountedRead(LoadMetadataType Load, bool Listing, string PageToken);

    private (ForwardedCalls.LeaderCall<MountRequest, MountResponse>, ForwardedCalls.LeaderCall<UnmountRequest, UnmountResponse>,
        ForwardedCalls.LeaderCall<UpdateMountRequest, UpdateMountResponse>, ForwardedCalls.LeaderCall<LoadMetadataCommand, CommandResult>) RegisterMountCalls(ForwardedCalls leaderCalls)
    {
        var mount = leaderCalls.Register(ServiceName, "Mount", MountRequest.Parser, MountResponse.Parser, async (r, caller, ct) =>
        {
            JournalProposer.CheckPath(r.Path);
            if (r.Path == "/") throw ServerErrors.Status(StatusCode.AlreadyExists, "/: the root directory exists and cannot be a mount point");
            RefuseIf(InputLimits.CheckUfsUri(r.UfsUri));
            var options = r.Options ?? new MountOptions();
            RefuseIf(InputLimits.CheckMountProperties(options.Properties));
            RequestChecks.CheckSession(r.Session);
            if (_machine.Mounts.Mounts.Count >= InputLimits.MaxMounts) throw ServerErrors.Status(StatusCode.FailedPrecondition, $"the mount table is full ({InputLimits.MaxMounts} mounts)");
            var canonical = await _stores.CheckAsync(r.UfsUri, options.Properties, ct).ConfigureAwait(false);
            var proposed = r.Clone();
            proposed.UfsUri = canonical;
            var result = await _proposer.ProposeAsync(caller, r.Session, e => e.Mount = proposed, ct).ConfigureAwait(false);
            return new MountResponse { Mount = result.Mount };
        });
        var unmount = leaderCalls.Register(ServiceName, "Unmount", UnmountRequest.Parser, UnmountResponse.Parser, async (r, caller, ct) =>
        {
            JournalProposer.CheckPath(r.Path);
            if (r.Path == "/") throw ServerErrors.Status(StatusCode.InvalidArgument, "/: the root cannot be unmounted");
            RequestChecks.CheckSession(r.Session);
            var result = await _proposer.ProposeAsync(caller, r.Session, e => e.Unmount = r, ct).ConfigureAwait(false);
            return new UnmountResponse { DeletedCount = result.DeletedCount };
        });
        var update = leaderCalls.Register(ServiceName, "UpdateMount", UpdateMountRequest.Parser, UpdateMountResponse.Parser, async (r, caller, ct) =>
        {
            JournalProposer.CheckPath(r.Path);
            var options = r.Options ?? new MountOptions();
            RefuseIf(InputLimits.CheckMountProperties(options.Properties));
            RequestChecks.CheckSession(r.Session);
            var existing = _machine.Mounts.At(r.Path) ?? throw ServerErrors.Status(StatusCode.NotFound, $"{r.Path}: is not a mount point");
            await _stores.CheckAsync(existing.UfsUri, options.Properties, ct).ConfigureAwait(false);
            var result = await _proposer.ProposeAsync(caller, r.Session, e => e.UpdateMount = r, ct).ConfigureAwait(false);
            return new UpdateMountResponse { Mount = result.Mount };
        });
        var load = leaderCalls.Register(InternalService, "LoadMetadata", LoadMetadataCommand.Parser, CommandResult.Parser, async (r, caller, ct) =>
        {
            JournalProposer.CheckPath(r.Path);
            if (r.Entries.Count > InputLimits.MaxLoadEntriesPerCommand) RefuseIf($"{r.Entries.Count} loaded entries, at most {InputLimits.MaxLoadEntriesPerCommand}");
            return await _proposer.ProposeAsync(caller, null, e => e.LoadMetadata = r, ct).ConfigureAwait(false);
        });
        return (mount, unmount, update, load);
    }

    public override Task<MountResponse> Mount(MountRequest request, ServerCallContext context) => _mount.InvokeAsync(request, context);

    public override Task<UnmountResponse> Unmount(UnmountRequest request, ServerCallContext context) => _unmount.InvokeAsync(request, context);

    public override Task<UpdateMountResponse> UpdateMount(UpdateMountRequest request, ServerCallContext context) => _updateMount.InvokeAsync(request, context);

    public override async Task<GetMountTableResponse> GetMountTable(GetMountTableRequest request, ServerCallContext context)
    {
        using var timeout = CallDeadline.Link(context, _defaultTimeout);
        await _proposer.ReadBarrierAsync(request.Consistency, timeout.Token).ConfigureAwait(false);
        var response = new GetMountTableResponse();
        foreach (var mount in _machine.Mounts.Mounts) response.Mounts.Add(MountTable.ToInfo(mount));
        return response;
    }

    /// <summary>
    /// Loads what the namespace lacks of <paramref name="path"/> from its mount's store: the missing
    /// components of the path (stat by stat), and for a listing the directory's children (all of
    /// them, in pages of <see cref="LoadPageEntries"/>, before the first page is answered). Returns
    /// true when something was proposed. Paths outside mounts and NEVER return at once.
    /// </summary>
    private async Task<bool> LoadMetadataAsync(string path, MountedRead read, ServerCallContext context, CancellationToken cancellationToken)
    {
        if (read.Load is not (LoadMetadataType.Once or LoadMetadataType.Always)) return false;

        if (_machine.Mounts.Resolve(path) is not { } resolved) return false;
        var mount = resolved.Mount;
        var components = path.Length == 1 ? [] : path[1..].Split('/');
        var mountDepth = mount.Path[1..].Split('/').Length;
        var state = JournalProposer.Unwrap(_machine.GetLoadState(path));
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
        state = JournalProposer.Unwrap(_machine.GetLoadState(path));
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
        var result = await _loadMetadata.InvokeAsync(command, context).ConfigureAwait(false);
        ServerErrors.EnsureOk(result);
    }

    /// <summary>
    /// Creates a directory under a writable mount in the store before the entry is proposed (the
    /// leader's side of write-through). Order and crashes: the store is written first; a crash or a
    /// refused entry afterwards leaves a directory in the store that HaMaster does not know yet, which
    /// the next load (or sync) picks up; never a persisted inode without its store directory. Skipped
    /// when the namespace will refuse the entry anyway (exists, missing parent without recursive,
    /// read-only mount: apply gives the answer).
    /// </summary>
    private async Task WriteThroughCreateDirectoryAsync(CreateDirectoryRequest r, CancellationToken cancellationToken)
    {
        if (_machine.Mounts.Resolve(r.Path) is not { } resolved || resolved.Mount.ReadOnly || resolved.StorePath.Length == 0) return;
        var state = JournalProposer.Unwrap(_machine.GetLoadState(r.Path));
        var depth = r.Path[1..].Split('/').Length;
        if (state.Exists || state.BlockedByFile || (!r.Recursive && state.ExistingDepth < depth - 1)) return;
        await _stores.Get(resolved.Mount).MkdirsAsync(resolved.StorePath, cancellationToken).ConfigureAwait(false);
    }

    private static string Prefix(string[] components, int count) => count == 0 ? "/" : "/" + string.Join('/', components, 0, count);

    private static void RefuseIf(string? problem)
    {
        if (problem is not null) throw ServerErrors.Status(StatusCode.InvalidArgument, problem);
    }
}
