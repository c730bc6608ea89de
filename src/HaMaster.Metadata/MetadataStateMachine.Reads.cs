using HaMaster.Metadata.Queries;
using HaMaster.Metadata.Store;
using HaMaster.Protos.V1;
using FileInfo = HaMaster.Protos.V1.FileInfo;

namespace HaMaster.Metadata;

// The read side lives in NamespaceReads; these are the state machine's public entry points to it.
public sealed partial class MetadataStateMachine : IMetastoreReader
{
    /// <inheritdoc cref="NamespaceReads.GetStatus"/>
    public MetadataResult<FileInfo> GetStatus(string path) => _reads.GetStatus(path);

    /// <inheritdoc cref="NamespaceReads.ListStatus"/>
    public MetadataResult<ListStatusResponse> ListStatus(string path, uint limit = 0, string? pageToken = null) => _reads.ListStatus(path, limit, pageToken);

    /// <inheritdoc cref="NamespaceReads.GetFileBlockInfo"/>
    public MetadataResult<GetFileBlockInfoResponse> GetFileBlockInfo(string path) => _reads.GetFileBlockInfo(path);

    /// <inheritdoc cref="NamespaceReads.GetBlockInfo"/>
    public MetadataResult<BlockInfo> GetBlockInfo(ulong blockId) => _reads.GetBlockInfo(blockId);

    /// <inheritdoc cref="NamespaceReads.ListWorkers"/>
    public IReadOnlyList<WorkerInfo> ListWorkers() => _reads.ListWorkers();

    /// <inheritdoc cref="NamespaceReads.GetWorker"/>
    public WorkerInfo? GetWorker(ulong workerId) => _reads.GetWorker(workerId);

    /// <inheritdoc cref="NamespaceReads.FindWorkerByAddress"/>
    public WorkerInfo? FindWorkerByAddress(string address) => _reads.FindWorkerByAddress(address);

    /// <summary>Runs <paramref name="read"/> under the shared lock against the current store.</summary>
    T IMetastoreReader.Read<T>(Func<Metastore, T> read) => Read(read);
}
