using HaMaster.Protos.V1;

namespace HaMaster.Client;

// FileSystemMaster: metadata sync of mounted stores (issue 18).
public sealed partial class HaMasterClient
{
    /// <summary>
    /// Compares <paramref name="path"/> under a mount (with <paramref name="recursive"/> its whole
    /// subtree) with the store and journals the differences. Idempotent, so it is retried like a
    /// read: a sync cut by a failover starts again and converges.
    /// </summary>
    public ValueTask<SyncMetadataResponse> SyncMetadataAsync(string path, bool recursive = false, uint concurrency = 0, CancellationToken cancellationToken = default) =>
        InvokeAsync(FileSystemService + "SyncMetadata", new SyncMetadataRequest { Path = path, Recursive = recursive, Concurrency = concurrency },
            static (m, r, o) => m.FileSystem.SyncMetadataAsync(r, o), CallKind.Read, cancellationToken);
}
