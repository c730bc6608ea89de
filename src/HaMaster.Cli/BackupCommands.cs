using System.CommandLine;
using System.Globalization;
using HaMaster.Journal;

namespace HaMaster.Cli;

/// <summary>
/// <c>hamaster cluster backup FILE</c> and <c>hamaster cluster restore FILE</c>: writing an archive
/// and verifying one offline (restore needs no running master).
/// </summary>
internal sealed class BackupCommands(ClientFlags flags, TextWriter output, TextWriter error)
{
    public Command BuildBackupCommand()
    {
        var file = new Argument<string>("FILE") { Description = "Archive to write (replaced only once the new one is complete and verified)" };
        var backup = new Command("backup", "Write a consistent, checksummed backup archive from a fresh snapshot; writes continue meanwhile") { file };
        backup.SetAction(flags.WithClient(error, async (r, client, ct) =>
        {
            var path = r.GetRequiredValue(file);
            var manifest = await BackupDownload.SaveAsync(client.StreamBackupAsync(ct), path, ct).ConfigureAwait(false);
            var size = new FileInfo(path).Length;
            await output.WriteLineAsync(flags.Json(r)
                ? string.Create(CultureInfo.InvariantCulture, $"{{\"file\":{System.Text.Json.JsonSerializer.Serialize(Path.GetFullPath(path))},\"index\":{manifest.Index},\"term\":{manifest.Term},\"files\":{manifest.Files.Count},\"bytes\":{manifest.TotalBytes},\"archiveBytes\":{size}}}")
                : string.Create(CultureInfo.InvariantCulture, $"backup written to {Path.GetFullPath(path)}: snapshot index {manifest.Index}, term {manifest.Term}, {manifest.Files.Count} files, {manifest.TotalBytes} bytes (archive {size} bytes)")).ConfigureAwait(false);
            return ExitCodes.Ok;
        }));
        return backup;
    }

    public Command BuildRestoreCommand()
    {
        var file = new Argument<string>("FILE") { Description = "Backup archive written by 'cluster backup'" };
        var dataDir = new Option<string?>("--data-dir") { Description = "Parent of the new masters' data directories (each master gets DIR/master-ID; they must be empty or absent)" };
        var members = new Option<string?>("--members") { Description = "The NEW cluster's members as for hamaster-server: 1=client/peer/web,2=...,3=..." };
        var verifyOnly = new Option<bool>("--verify-only") { Description = "Only verify the archive and print what it holds" };
        var restore = new Command("restore",
            "Verify a backup archive (manifest digest, every file's length and CRC-32C) and print the hamaster-server command lines that start a NEW cluster from it (--restore-from)")
        {
            file, dataDir, members, verifyOnly,
        };
        restore.SetAction(async (r, ct) =>
        {
            var path = Path.GetFullPath(r.GetRequiredValue(file));
            SnapshotManifest manifest;
            try
            {
                await using var input = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16);
                manifest = BackupArchive.Read(input);
            }
            catch (FileNotFoundException)
            {
                await error.WriteLineAsync($"error: {path} does not exist").ConfigureAwait(false);
                return ExitCodes.NotFound;
            }
            catch (Exception e) when (e is SnapshotIntegrityException or InvalidDataException or FormatException or System.Text.Json.JsonException or EndOfStreamException)
            {
                await error.WriteLineAsync($"error: {path} is refused: {e.Message}").ConfigureAwait(false);
                return ExitCodes.Precondition;
            }

            await output.WriteLineAsync(string.Create(CultureInfo.InvariantCulture,
                $"{path}: valid backup of snapshot index {manifest.Index}, term {manifest.Term}, taken {manifest.CreatedAt:u}: {manifest.Files.Count} files, {manifest.TotalBytes} bytes")).ConfigureAwait(false);
            if (r.GetValue(verifyOnly))
            {
                return ExitCodes.Ok;
            }

            return await WriteRestoreGuidanceAsync(path, r.GetValue(dataDir), r.GetValue(members)).ConfigureAwait(false);
        });
        return restore;
    }

    /// <summary>
    /// The restore itself is the server's <c>--restore-from</c> (every master of the new cluster
    /// imports the same archive into an empty data directory); this prints those command lines.
    /// </summary>
    private async Task<int> WriteRestoreGuidanceAsync(string archive, string? dataDirectory, string? members)
    {
        var root = dataDirectory is null ? "DATA_ROOT" : Path.GetFullPath(dataDirectory);
        var ids = new List<string>();
        foreach (var member in (members ?? string.Empty).Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            var equals = member.IndexOf('=', StringComparison.Ordinal);
            if (equals <= 0 || !ulong.TryParse(member.AsSpan(0, equals), NumberStyles.None, CultureInfo.InvariantCulture, out _))
            {
                await error.WriteLineAsync($"error: --members entry '{member}' is not ID=client/peer[/web]").ConfigureAwait(false);
                return ExitCodes.Usage;
            }

            ids.Add(member[..equals]);
        }

        if (ids.Count == 0)
        {
            ids.AddRange(["1", "2", "3"]);
        }

        var memberList = members ?? "1=HOST1:CLIENT/HOST1:PEER/HOST1:WEB,2=...,3=...";
        foreach (var id in ids)
        {
            var dir = Path.Combine(root, $"master-{id}");
            if (dataDirectory is not null && Directory.Exists(dir) && Directory.EnumerateFileSystemEntries(dir).Any())
            {
                await error.WriteLineAsync($"error: {dir} is not empty; a restored master must start from an empty data directory").ConfigureAwait(false);
                return ExitCodes.Precondition;
            }
        }

        await output.WriteLineAsync("Start every master of the NEW cluster with the same archive and an empty data directory:").ConfigureAwait(false);
        foreach (var id in ids)
        {
            await output.WriteLineAsync($"  hamaster-server --id {id} --data-dir {Path.Combine(root, $"master-{id}")} --members {memberList} --restore-from {archive}").ConfigureAwait(false);
        }

        await output.WriteLineAsync("Add the same --bind/--client-port/--peer-port/--web-port, --cluster-secret and TLS flags the masters normally use.").ConfigureAwait(false);
        await output.WriteLineAsync("Each master verifies the archive again and refuses a damaged one; --restore-from is ignored once its data directory has state.").ConfigureAwait(false);
        return ExitCodes.Ok;
    }
}
