using HaMaster.Journal;
using HaMaster.Protos.V1;

namespace HaMaster.Cli;

/// <summary>
/// Turns the chunk stream of <c>ClusterAdmin.Backup</c> into a backup archive: the chunks are
/// written into a private staging directory (names checked against the manifest, offsets must be
/// contiguous), then <see cref="BackupArchive.Write"/> packs them into <c>FILE.partial</c>, the
/// archive is read back and verified (manifest digest, every file's length and CRC-32C) and only
/// then renamed to FILE. A failed or interrupted backup never leaves a file named FILE.
/// </summary>
internal static class BackupDownload
{
    public static async ValueTask<SnapshotManifest> SaveAsync(IAsyncEnumerable<BackupChunk> chunks, string archivePath, CancellationToken cancellationToken)
    {
        var target = Path.GetFullPath(archivePath);
        var partial = target + ".partial";
        var staging = Directory.CreateTempSubdirectory("hamaster-backup-").FullName;
        try
        {
            var manifest = await ReceiveAsync(chunks, staging, cancellationToken).ConfigureAwait(false);
            await using (var output = new FileStream(partial, FileMode.Create, FileAccess.Write, FileShare.None, 1 << 16))
            {
                BackupArchive.Write(output, manifest, staging);
                output.Flush(flushToDisk: true);
            }

            await using (var check = new FileStream(partial, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16))
            {
                _ = BackupArchive.Read(check);
            }

            File.Move(partial, target, overwrite: true);
            return manifest;
        }
        finally
        {
            if (File.Exists(partial))
            {
                File.Delete(partial);
            }

            Directory.Delete(staging, recursive: true);
        }
    }

    private static async ValueTask<SnapshotManifest> ReceiveAsync(IAsyncEnumerable<BackupChunk> chunks, string staging, CancellationToken cancellationToken)
    {
        SnapshotManifest? manifest = null;
        Dictionary<string, SnapshotFileEntry> expected = new(StringComparer.Ordinal);
        Dictionary<string, long> written = new(StringComparer.Ordinal);
        FileStream? current = null;
        string? currentName = null;
        try
        {
            await foreach (var chunk in chunks.WithCancellation(cancellationToken).ConfigureAwait(false))
            {
                if (manifest is null)
                {
                    if (chunk.Manifest.IsEmpty)
                    {
                        throw new InvalidDataException("the master's backup stream did not start with a manifest");
                    }

                    manifest = SnapshotManifest.FromBytes(chunk.Manifest.Span);
                    expected = manifest.Files.ToDictionary(f => f.Name, StringComparer.Ordinal);
                    continue;
                }

                // Only names from the manifest (validated there against '..' and absolute paths) are written.
                if (!expected.TryGetValue(chunk.FileName, out var file))
                {
                    throw new InvalidDataException($"the backup stream sent '{chunk.FileName}', which is not in the manifest");
                }

                if (currentName != chunk.FileName)
                {
                    if (current is not null)
                    {
                        await current.DisposeAsync().ConfigureAwait(false);
                    }

                    var path = Path.Combine(staging, chunk.FileName);
                    Directory.CreateDirectory(Path.GetDirectoryName(path)!);
                    current = new FileStream(path, FileMode.Append, FileAccess.Write, FileShare.None, 1 << 16);
                    currentName = chunk.FileName;
                }

                var offset = written.GetValueOrDefault(chunk.FileName);
                if ((long)chunk.Offset != offset)
                {
                    throw new InvalidDataException($"'{chunk.FileName}': chunk at offset {chunk.Offset}, expected {offset}");
                }

                if (offset + chunk.Data.Length > file.Length)
                {
                    throw new InvalidDataException($"'{chunk.FileName}' is longer than the manifest's {file.Length} bytes");
                }

                await current!.WriteAsync(chunk.Data.Memory, cancellationToken).ConfigureAwait(false);
                written[chunk.FileName] = offset + chunk.Data.Length;
            }
        }
        finally
        {
            if (current is not null)
            {
                await current.DisposeAsync().ConfigureAwait(false);
            }
        }

        if (manifest is null)
        {
            throw new InvalidDataException("the backup stream was empty");
        }

        // Empty files send no chunk: create them so the archive has every file of the manifest.
        foreach (var file in manifest.Files.Where(f => !written.ContainsKey(f.Name)))
        {
            var path = Path.Combine(staging, file.Name);
            Directory.CreateDirectory(Path.GetDirectoryName(path)!);
            await File.WriteAllBytesAsync(path, [], cancellationToken).ConfigureAwait(false);
        }

        return manifest;
    }
}
