using HaMaster.Metadata.Store;
using HaMaster.Protos.V1;
using FileInfo = HaMaster.Protos.V1.FileInfo;
using static HaMaster.Metadata.Commands.NamespaceCommands;

namespace HaMaster.Metadata.Queries;

/// <summary>
/// The state machine's read side: path walks, listings, blocks and workers of the committed state,
/// turned into protocol messages. Input is checked before the shared lock is taken (a bad path
/// costs no lock); each read then runs as one <see cref="IMetastoreReader.Read{T}"/>, so it sees
/// a state between two applied batches. Safe from any number of threads, concurrently with apply.
/// </summary>
internal sealed class NamespaceReads(IMetastoreReader reader, MetastoreOptions options)
{
    /// <summary>The status of a file or directory.</summary>
    public MetadataResult<FileInfo> GetStatus(string path) => ReadFound<FileInfo>(path, (store, inode) =>
    {
        var info = ToFileInfo(inode, path);
        info.MountPoint = store.Mounts is { IsEmpty: false } mounts && mounts.IsMountPoint(inode.Id);
        return MetadataResult.Ok<FileInfo>(info);
    });

    /// <summary>
    /// One page of a directory's children sorted by name (UTF-8 byte order). <paramref name="limit"/> 0 means
    /// <see cref="MetastoreOptions.DefaultListLimit"/>; larger than <see cref="MetastoreOptions.MaxListLimit"/> is capped.
    /// <paramref name="pageToken"/> is the previous page's next_page_token (the last name it returned), so
    /// pages stay correct while the directory changes between them. Listing a file returns the file.
    /// </summary>
    public MetadataResult<ListStatusResponse> ListStatus(string path, uint limit = 0, string? pageToken = null)
    {
        // A bad path is reported first (ReadFound), then a bad token.
        if (PathValidator.Validate(path) is null && !string.IsNullOrEmpty(pageToken) && (pageToken.Contains('/', StringComparison.Ordinal) || PathValidator.Check("/" + pageToken) != PathProblem.None))
        {
            return MetadataResult.Fail<ListStatusResponse>(MetadataStatus.InvalidArgument, "page token is not a name from a previous page");
        }

        var pageSize = limit == 0 ? options.DefaultListLimit : (int)Math.Min(limit, (uint)options.MaxListLimit);
        return ReadFound<ListStatusResponse>(path, (store, directory) =>
        {
            var response = new ListStatusResponse();
            if (directory.Kind != InodeKind.Directory)
            {
                response.Entries.Add(ToFileInfo(directory, path));
                return MetadataResult.Ok<ListStatusResponse>(response);
            }

            var children = new List<KeyValuePair<string, ulong>>(Math.Min(pageSize + 1, 1024));
            store.Inodes.ListChildren(directory.Id, string.IsNullOrEmpty(pageToken) ? null : pageToken, pageSize + 1, children);
            var count = Math.Min(children.Count, pageSize);
            var ids = new ulong[count];
            for (var i = 0; i < count; i++)
            {
                ids[i] = children[i].Value;
            }

            var inodes = store.Inodes.GetInodes(ids);
            for (var i = 0; i < count; i++)
            {
                var (name, id) = children[i];
                var child = inodes[i] ?? throw new InvalidOperationException($"edge {directory.Id}/{name} points to missing inode {id}");
                var info = ToFileInfo(child, PathValidator.Child(path, name));
                info.MountPoint = store.Mounts is { IsEmpty: false } mounts && mounts.IsMountPoint(child.Id);
                response.Entries.Add(info);
            }

            if (children.Count > pageSize)
            {
                response.NextPageToken = children[pageSize - 1].Key;
            }

            return MetadataResult.Ok<ListStatusResponse>(response);
        });
    }

    /// <summary>A file's status and its blocks with locations and offsets.</summary>
    public MetadataResult<GetFileBlockInfoResponse> GetFileBlockInfo(string path) =>
        ReadFound<GetFileBlockInfoResponse>(path, (store, file) =>
        {
            if (file.Kind != InodeKind.File)
            {
                return MetadataResult.Fail<GetFileBlockInfoResponse>(MetadataStatus.FailedPrecondition, $"{path}: is a directory, not a file");
            }

            var response = new GetFileBlockInfoResponse { Info = ToFileInfo(file, path) };
            ulong offset = 0;
            foreach (var blockId in file.BlockIds)
            {
                var info = BlockInfoOf(store, blockId) ?? new BlockInfo { BlockId = blockId };
                response.Blocks.Add(new FileBlockInfo { Block = info, Offset = offset });
                // Saturates instead of wrapping: files written before block sizes were bounded
                // (InputLimits) may hold a block size up to 2^64 - 1.
                offset = ulong.MaxValue - offset < file.BlockSizeBytes ? ulong.MaxValue : offset + file.BlockSizeBytes;
            }

            return MetadataResult.Ok<GetFileBlockInfoResponse>(response);
        });

    /// <summary>A block's length and locations (worker id order).</summary>
    public MetadataResult<BlockInfo> GetBlockInfo(ulong blockId) => reader.Read(store =>
        BlockInfoOf(store, blockId) is { } info
            ? MetadataResult.Ok<BlockInfo>(info)
            : MetadataResult.Fail<BlockInfo>(MetadataStatus.NotFound, $"block {blockId} does not exist"));

    /// <summary>Every registered worker (live and lost) in id order. Heartbeat times are the server's to fill.</summary>
    public IReadOnlyList<WorkerInfo> ListWorkers() => reader.Read(store => store.Blocks.EnumerateWorkers().Select(ToWorkerInfo).ToList());

    public WorkerInfo? GetWorker(ulong workerId) => reader.Read(store => store.Blocks.GetWorker(workerId) is { } worker ? ToWorkerInfo(worker) : null);

    /// <summary>The worker registered with this address, or null.</summary>
    public WorkerInfo? FindWorkerByAddress(string address) => reader.Read(store =>
    {
        var id = store.Blocks.FindWorker(address);
        return id != 0 && store.Blocks.GetWorker(id) is { } worker ? ToWorkerInfo(worker) : null;
    });

    /// <summary>
    /// What a master needs to decide whether to read a store for <paramref name="path"/>: how deep
    /// the path exists, and whether the deepest existing directory's children were all loaded.
    /// </summary>
    public MetadataResult<LoadState> GetLoadState(string path)
    {
        if (PathValidator.Validate(path) is { } invalid)
        {
            return MetadataResult.Fail<LoadState>(MetadataStatus.InvalidArgument, invalid);
        }

        return reader.Read(store =>
        {
            var components = PathValidator.Split(path);
            var walk = Walk.Resolve(store.Inodes, components);
            var last = walk.Last;
            return MetadataResult.Ok(new LoadState(
                walk.Outcome == WalkOutcome.Found,
                walk.Outcome == WalkOutcome.NotDirectory,
                walk.Depth,
                last.Kind == InodeKind.Directory,
                last.ChildrenLoaded,
                last.UfsFingerprint));
        });
    }

    /// <summary>
    /// Inodes whose time to live ran out at <paramref name="nowMs"/>, in expiry-bucket order, examining at
    /// most <paramref name="maxExamined"/> index entries (so one call's work is bounded however many
    /// inodes are due).
    /// </summary>
    public IReadOnlyList<TtlDue> ListDueTtl(long nowMs, int maxExamined) => reader.Read(store =>
    {
        var due = new List<TtlDue>(Math.Min(maxExamined, 1024));
        store.TtlIndex.ListDue(nowMs, maxExamined, due);
        return due;
    });

    /// <summary>Inodes in the expiry index (a full scan: tests and diagnostics).</summary>
    public long TtlIndexCount => reader.Read(store => store.TtlIndex.Count);

    /// <summary>
    /// Checks <paramref name="path"/>, walks it under the read lock and runs <paramref name="found"/> on
    /// the inode it names; a path that does not resolve is the result (NOT_FOUND, FAILED_PRECONDITION...).
    /// </summary>
    private MetadataResult<T> ReadFound<T>(string path, Func<Metastore, InodeRecord, MetadataResult<T>> found)
        where T : class
    {
        if (PathValidator.Validate(path) is { } invalid)
        {
            return MetadataResult.Fail<T>(MetadataStatus.InvalidArgument, invalid);
        }

        return reader.Read(store =>
        {
            var components = PathValidator.Split(path);
            var walk = Walk.Resolve(store.Inodes, components);
            if (walk.Outcome != WalkOutcome.Found)
            {
                var (status, message) = walk.TargetFailure(path, components);
                return MetadataResult.Fail<T>(status, message);
            }

            return found(store, walk.Last);
        });
    }

    private static BlockInfo? BlockInfoOf(Metastore store, ulong blockId)
    {
        if (store.Blocks.GetBlock(blockId) is not { } block)
        {
            return null;
        }

        var info = new BlockInfo { BlockId = blockId, Length = block.Length };
        var locations = new List<KeyValuePair<ulong, LocationRecord>>();
        store.Blocks.ListLocations(blockId, locations);
        foreach (var (workerId, location) in locations)
        {
            info.Locations.Add(new BlockLocation
            {
                WorkerId = workerId,
                WorkerAddress = store.Blocks.GetWorker(workerId)?.Address ?? string.Empty,
                Tier = location.Tier,
                Medium = location.Medium,
            });
        }

        return info;
    }

    private static WorkerInfo ToWorkerInfo(WorkerRecord worker)
    {
        var info = new WorkerInfo
        {
            Id = worker.Id,
            Address = worker.Address,
            State = worker.State,
            RegisteredAtMs = worker.RegisteredAtMs,
            BlockCount = worker.BlockCount,
        };
        foreach (var tier in worker.Tiers)
        {
            info.Tiers.Add(tier.Clone());
        }

        return info;
    }
}
