using System.CommandLine;
using System.Globalization;
using System.Text;
using HaMaster.Client;
using HaMaster.Protos.V1;
using FileInfo = HaMaster.Protos.V1.FileInfo;

namespace HaMaster.Cli;

// `hamaster fs ...`: the namespace commands.
public sealed partial class HamasterCommandLine
{
    private Command BuildFsCommand()
    {
        var fs = new Command("fs", "File-system namespace commands");

        var path = () => new Argument<string>("PATH") { Description = "Absolute path, e.g. /data/a" };
        var stale = () => new Option<bool>("--stale") { Description = "Serve the read from the answering master's local state (may lag)" };

        var mkdirPath = path();
        var parents = new Option<bool>("--parents", "-p") { Description = "Create missing parents; an existing directory is not an error" };
        var mkdir = new Command("mkdir", "Create a directory") { mkdirPath, parents };
        mkdir.SetAction(WithClient(async (r, client, ct) =>
        {
            var info = await client.CreateDirectoryAsync(r.GetRequiredValue(mkdirPath), r.GetValue(parents), 0, ct).ConfigureAwait(false);
            return await WriteInfoAsync(r, info, $"created directory {info.Path}").ConfigureAwait(false);
        }));

        var touchPath = path();
        var touch = new Command("touch", "Create an empty, completed file (exit 4 if it exists)") { touchPath };
        touch.SetAction(WithClient(async (r, client, ct) =>
        {
            var target = r.GetRequiredValue(touchPath);
            _ = await client.CreateFileAsync(target, false, 0, ct).ConfigureAwait(false);
            var info = await client.CompleteFileAsync(target, 0, ct).ConfigureAwait(false);
            return await WriteInfoAsync(r, info, $"created file {info.Path}").ConfigureAwait(false);
        }));

        var lsPath = path();
        var longFormat = new Option<bool>("--long", "-l") { Description = "Long format: mode, owner, group, length, modification time, name" };
        var lsStale = stale();
        var pageSize = new Option<uint>("--page-size") { Description = "Entries fetched per ListStatus call (0 = the master's default)" };
        var lsLoad = LoadMetadataOption();
        var lsSync = new Option<bool>("--sync") { Description = "Under a mount: compare the directory with its store first (metadata sync)" };
        var ls = new Command("ls", "List a directory (pages through all of it)") { lsPath, longFormat, lsStale, pageSize, lsLoad, lsSync };
        ls.SetAction(WithClient(async (r, client, ct) =>
        {
            if (r.GetValue(lsSync)) _ = await client.SyncMetadataAsync(r.GetRequiredValue(lsPath), recursive: false, cancellationToken: ct).ConfigureAwait(false);
            var consistency = r.GetValue(lsStale) ? Consistency.Stale : Consistency.Linearizable;
            var entries = new List<FileInfo>();
            await foreach (var entry in client.ListAllAsync(r.GetRequiredValue(lsPath), r.GetValue(pageSize), consistency, r.GetValue(lsLoad), ct).ConfigureAwait(false))
            {
                entries.Add(entry);
            }

            if (Json(r))
            {
                await _out.WriteLineAsync("[" + string.Join(",", entries.Select(e => ProtoJson.Format(e))) + "]").ConfigureAwait(false);
            }
            else if (r.GetValue(longFormat))
            {
                var table = new TextTable("MODE", "OWNER", "GROUP", "LENGTH", "MODIFIED", "NAME");
                foreach (var e in entries)
                {
                    table.AddRow(ModeString(e), e.Owner, e.Group, e.Length.ToString(CultureInfo.InvariantCulture), FormatTime(e.ModificationTimeMs), DisplayName(e));
                }

                table.WriteTo(_out);
            }
            else
            {
                foreach (var e in entries)
                {
                    await _out.WriteLineAsync(DisplayName(e)).ConfigureAwait(false);
                }
            }

            return ExitCodes.Ok;
        }));

        var statPath = path();
        var statStale = stale();
        var statLoad = LoadMetadataOption();
        var stat = new Command("stat", "Show the status of a file or directory") { statPath, statStale, statLoad };
        stat.SetAction(WithClient(async (r, client, ct) =>
        {
            var request = new GetStatusRequest
            {
                Path = r.GetRequiredValue(statPath),
                Consistency = r.GetValue(statStale) ? Consistency.Stale : Consistency.Linearizable,
                LoadMetadata = r.GetValue(statLoad),
            };
            var info = (await client.GetStatusAsync(request, ct).ConfigureAwait(false)).Info;
            if (Json(r))
            {
                await _out.WriteLineAsync(ProtoJson.Format(info)).ConfigureAwait(false);
                return ExitCodes.Ok;
            }

            var table = new TextTable("FIELD", "VALUE");
            table.AddRow("path", info.Path).AddRow("id", Invariant(info.Id)).AddRow("kind", info.Kind == InodeKind.Directory ? "directory" : "file")
                .AddRow("mode", ModeString(info) + " (" + Convert.ToString(info.Mode, 8).PadLeft(4, '0') + ")")
                .AddRow("owner", info.Owner).AddRow("group", info.Group)
                .AddRow("created", FormatTime(info.CreationTimeMs)).AddRow("modified", FormatTime(info.ModificationTimeMs));
            if (info.Kind == InodeKind.Directory)
            {
                table.AddRow("children", Invariant(info.ChildCount));
            }
            else
            {
                table.AddRow("length", Invariant(info.Length)).AddRow("completed", info.Completed ? "yes" : "no")
                    .AddRow("block size", Invariant(info.BlockSizeBytes)).AddRow("blocks", info.BlockIds.Count.ToString(CultureInfo.InvariantCulture));
            }

            table.AddRow("pinned", info.Pinned ? "yes" : "no").AddRow("ttl ms", info.TtlMs.ToString(CultureInfo.InvariantCulture))
                .AddRow("ttl action", TtlText.ActionName(info.TtlAction));
            if (info.MountPoint) table.AddRow("mount point", "yes");
            if (info.UfsFingerprint.Length > 0) table.AddRow("persisted", info.Persisted ? "yes" : "no").AddRow("store fingerprint", info.UfsFingerprint);
            table.WriteTo(_out);
            return ExitCodes.Ok;
        }));

        var rmPath = path();
        var recursive = new Option<bool>("--recursive", "-r") { Description = "Delete a non-empty directory with everything below it" };
        var alluxioOnly = new Option<bool>("--alluxio-only") { Description = "Under a mount: forget the metadata only, leave the store's data untouched" };
        var rm = new Command("rm", "Delete a file or directory") { rmPath, recursive, alluxioOnly };
        rm.SetAction(WithClient(async (r, client, ct) =>
        {
            var target = r.GetRequiredValue(rmPath);
            var request = new DeleteRequest { Path = target, Recursive = r.GetValue(recursive), AlluxioOnly = r.GetValue(alluxioOnly) };
            var count = (await client.DeleteAsync(request, ct).ConfigureAwait(false)).DeletedCount;
            await _out.WriteLineAsync(Json(r) ? $"{{\"path\":{Quote(target)},\"deletedCount\":{count}}}" : $"deleted {target} ({count} inode{(count == 1 ? "" : "s")})").ConfigureAwait(false);
            return ExitCodes.Ok;
        }));

        var src = new Argument<string>("SRC") { Description = "Existing path" };
        var dst = new Argument<string>("DST") { Description = "New path (must not exist)" };
        var mv = new Command("mv", "Rename / move a file or directory") { src, dst };
        mv.SetAction(WithClient(async (r, client, ct) =>
        {
            var info = await client.RenameAsync(r.GetRequiredValue(src), r.GetRequiredValue(dst), ct).ConfigureAwait(false);
            return await WriteInfoAsync(r, info, $"renamed {r.GetRequiredValue(src)} -> {info.Path}").ConfigureAwait(false);
        }));

        var mode = new Argument<uint>("MODE")
        {
            Description = "Octal permission bits, e.g. 755",
            CustomParser = arg =>
            {
                var text = arg.Tokens.Count == 1 ? arg.Tokens[0].Value : string.Empty;
                if (text.Length is 0 or > 4 || text.Any(c => c is < '0' or > '7'))
                {
                    arg.AddError($"MODE must be 1 to 4 octal digits (e.g. 755), got '{text}'.");
                    return 0;
                }

                return Convert.ToUInt32(text, 8);
            },
        };
        var chmodPath = path();
        var chmod = new Command("chmod", "Change permission bits") { mode, chmodPath };
        chmod.SetAction(WithClient(async (r, client, ct) =>
        {
            var response = await client.SetAttributeAsync(new SetAttributeRequest { Path = r.GetRequiredValue(chmodPath), Mode = r.GetValue(mode) }, ct).ConfigureAwait(false);
            var info = response.Info ?? new FileInfo { Path = r.GetRequiredValue(chmodPath), Mode = r.GetValue(mode) };
            return await WriteInfoAsync(r, info, $"mode of {info.Path} is now {Convert.ToString(info.Mode, 8).PadLeft(4, '0')}").ConfigureAwait(false);
        }));

        fs.Add(mkdir);
        fs.Add(touch);
        fs.Add(ls);
        fs.Add(stat);
        fs.Add(rm);
        fs.Add(mv);
        fs.Add(chmod);
        fs.Add(BuildSetTtlCommand());
        AddMountCommands(fs);
        AddSyncCommands(fs);
        return fs;
    }

    private async Task<int> WriteInfoAsync(ParseResult result, FileInfo info, string text)
    {
        await _out.WriteLineAsync(Json(result) ? ProtoJson.Format(info) : text).ConfigureAwait(false);
        return ExitCodes.Ok;
    }

    private static string DisplayName(FileInfo e) => e.Kind == InodeKind.Directory ? e.Name + "/" : e.Name;

    private static string Invariant(ulong value) => value.ToString(CultureInfo.InvariantCulture);

    private static string Quote(string text) => System.Text.Json.JsonSerializer.Serialize(text, CliJsonContext.Default.String);

    private static string FormatTime(long unixMs) =>
        unixMs <= 0 ? "-" : DateTimeOffset.FromUnixTimeMilliseconds(unixMs).UtcDateTime.ToString("yyyy-MM-dd HH:mm:ss'Z'", CultureInfo.InvariantCulture);

    /// <summary>"drwxr-xr-x" style rendering of kind and permission bits.</summary>
    internal static string ModeString(FileInfo info)
    {
        var builder = new StringBuilder(10);
        builder.Append(info.Kind == InodeKind.Directory ? 'd' : '-');
        for (var shift = 6; shift >= 0; shift -= 3)
        {
            var bits = (info.Mode >> shift) & 7;
            builder.Append((bits & 4) != 0 ? 'r' : '-').Append((bits & 2) != 0 ? 'w' : '-').Append((bits & 1) != 0 ? 'x' : '-');
        }

        return builder.ToString();
    }
}
