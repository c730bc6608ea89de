using Google.Protobuf;
using HaMaster.Journal;
using HaMaster.Protos.V1;
using Microsoft.Extensions.Logging;

namespace HaMaster.Server.Hosting;

/// <summary>
/// Starts a new cluster from a backup: verifies the archive (manifest digest, every file's
/// length and CRC-32C), stores its snapshot as this master's newest snapshot with the NEW
/// cluster's membership, and moves the term past the snapshot's. The Raft host then restores
/// the state machine from it on start, exactly as after receiving a snapshot from a leader.
/// </summary>
internal static class BackupImport
{
    public static void Import(string archivePath, SnapshotStore snapshots, HardStateFile hardState, ClusterState newCluster, ILogger logger)
    {
        var staging = Path.Combine(snapshots.Directory, $"restore-{Guid.NewGuid():N}");
        SnapshotManifest manifest;
        using (var input = File.OpenRead(archivePath))
        {
            manifest = BackupArchive.Read(input, staging);
        }

        using var writer = snapshots.BeginSnapshot(manifest.Index, manifest.Term, newCluster.ToByteArray());
        Directory.Move(staging, writer.Directory);
        writer.Commit();
        hardState.Save(new HardStateRecord(manifest.Term, 0, manifest.Index));
        logger.LogInformation("restored snapshot {Index} (term {Term}, {Files} files, {Bytes} bytes) from backup {Archive}", manifest.Index, manifest.Term, manifest.Files.Count, manifest.TotalBytes, archivePath);
    }
}
