using HaMaster.Protos.V1;

namespace HaMaster.Client;

// ClusterAdmin.Backup: a server-streaming call (see CallRouter.StreamBackupAsync).
public sealed partial class HaMasterClient
{
    /// <summary>
    /// Streams a consistent backup from the leader (or the pinned master): the first chunk carries
    /// the snapshot manifest (JSON), then every file's bytes in manifest order. The master takes a
    /// snapshot first; writes continue meanwhile. One attempt: a failure mid-stream surfaces as
    /// <see cref="HaMasterException"/> and the caller starts over (a partial backup is useless).
    /// The whole stream is bounded by <see cref="HaMasterClientOptions.AdminCallTimeout"/>.
    /// </summary>
    public IAsyncEnumerable<BackupChunk> StreamBackupAsync(CancellationToken cancellationToken = default) => _router.StreamBackupAsync(cancellationToken);
}
