using HaMaster.Protos.V1;
using HaMaster.Rocks;

namespace HaMaster.Metadata.Store;

/// <summary>Point lookups of the namespace, shared by the committed stores and the apply transaction.</summary>
internal interface INamespaceView
{
    InodeRecord? GetInode(ulong id);

    /// <summary>The child id, or 0 when (parent, name) has no edge.</summary>
    ulong GetChild(ulong parentId, string name);
}

/// <summary>
/// Inodes by id and edges (parent id, child name) -> child id, after Alluxio's InodeStore.
/// </summary>
/// <remarks>
/// Concurrency contract: the read members may run on many threads at once and concurrently with
/// the apply loop's reads; <see cref="Stage"/> and <see cref="Publish"/> are called only by the
/// apply loop while it holds the state machine's exclusive lock (so no read overlaps a mutation).
/// Returned records are shared and must be treated as immutable (clone before changing).
/// </remarks>
internal interface IInodeStore : INamespaceView
{

    /// <summary>Appends up to <paramref name="limit"/> children of <paramref name="parentId"/> whose
    /// name sorts (UTF-8 byte order) strictly after <paramref name="startAfter"/> (null = from the first).</summary>
    void ListChildren(ulong parentId, string? startAfter, int limit, List<KeyValuePair<string, ulong>> into);

    /// <summary>Point lookups of many inodes at once (one native call for RocksDB); null for absent ids.</summary>
    InodeRecord?[] GetInodes(IReadOnlyList<ulong> ids);

    /// <summary>Every inode in id order.</summary>
    IEnumerable<InodeRecord> EnumerateInodes();

    /// <summary>Adds the transaction's inode/edge changes to <paramref name="batch"/> (RocksDB stores).</summary>
    void Stage(ApplyTransaction tx, WriteBatch? batch);

    /// <summary>Makes the changes visible in memory (Heap store, caches) after the batch is durable in RocksDB.</summary>
    void Publish(ApplyTransaction tx);
}

/// <summary>Block metadata, block locations and the worker registry, after Alluxio's BlockStore.</summary>
/// <remarks>Same concurrency contract as <see cref="IInodeStore"/>.</remarks>
internal interface IBlockStore
{
    BlockRecord? GetBlock(ulong blockId);

    /// <summary>Appends the locations of a block in worker id order.</summary>
    void ListLocations(ulong blockId, List<KeyValuePair<ulong, LocationRecord>> into);

    /// <summary>Appends the ids of blocks held by a worker in block id order.</summary>
    void ListWorkerBlocks(ulong workerId, List<ulong> into);

    WorkerRecord? GetWorker(ulong workerId);

    /// <summary>The id registered for an address, or 0.</summary>
    ulong FindWorker(string address);

    /// <summary>Every worker in id order.</summary>
    IEnumerable<WorkerRecord> EnumerateWorkers();

    /// <summary>Every block in id order with its locations.</summary>
    IEnumerable<(ulong Id, BlockRecord Block)> EnumerateBlocks();

    void Stage(ApplyTransaction tx, WriteBatch? batch);

    void Publish(ApplyTransaction tx);
}
