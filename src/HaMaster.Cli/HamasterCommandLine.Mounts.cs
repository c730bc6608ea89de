using System.CommandLine;
using System.Globalization;
using HaMaster.Protos.V1;

namespace HaMaster.Cli;

// `hamaster fs mount|unmount|mounts`: mounted external stores (issue 18).
public sealed partial class HamasterCommandLine
{
    /// <summary>--load-metadata never|once|always (default once) for reads under a mount.</summary>
    private static Option<LoadMetadataType> LoadMetadataOption() => new("--load-metadata")
    {
        Description = "Under a mount: load missing metadata from the store: never, once (default) or always",
        DefaultValueFactory = _ => LoadMetadataType.Once,
        CustomParser = arg =>
        {
            var text = arg.Tokens.Count == 1 ? arg.Tokens[0].Value : string.Empty;
            switch (text.ToLowerInvariant())
            {
                case "never": return LoadMetadataType.Never;
                case "once": return LoadMetadataType.Once;
                case "always": return LoadMetadataType.Always;
                default:
                    arg.AddError($"--load-metadata must be never, once or always, got '{text}'.");
                    return LoadMetadataType.Once;
            }
        },
    };

    private void AddMountCommands(Command fs)
    {
        var mountPath = new Argument<string>("PATH") { Description = "Mount point: an absolute path that does not exist yet (its parent must)" };
        var uri = new Argument<string>("URI") { Description = "Store location, e.g. file:///data" };
        var readOnly = new Option<bool>("--read-only") { Description = "Refuse namespace writes under the mount" };
        var shared = new Option<bool>("--shared") { Description = "Allow overlapping store locations with other shared mounts" };
        var options = new Option<string[]>("--option") { Description = "Connector option KEY=VALUE (repeatable)", AllowMultipleArgumentsPerToken = false };
        var mount = new Command("mount", "Mount an external store at PATH") { mountPath, uri, readOnly, shared, options };
        mount.SetAction(WithClient(async (r, client, ct) =>
        {
            var mountOptions = new MountOptions { ReadOnly = r.GetValue(readOnly), Shared = r.GetValue(shared) };
            foreach (var option in r.GetValue(options) ?? [])
            {
                var equals = option.IndexOf('=', StringComparison.Ordinal);
                if (equals <= 0)
                {
                    await _err.WriteLineAsync($"error: --option must be KEY=VALUE, got '{option}'").ConfigureAwait(false);
                    return ExitCodes.Usage;
                }

                mountOptions.Properties[option[..equals]] = option[(equals + 1)..];
            }

            var info = await client.MountAsync(r.GetRequiredValue(mountPath), r.GetRequiredValue(uri), mountOptions, ct).ConfigureAwait(false);
            await _out.WriteLineAsync(Json(r) ? ProtoJson.Format(info) : $"mounted {info.UfsUri} at {info.Path}").ConfigureAwait(false);
            return ExitCodes.Ok;
        }));

        var unmountPath = new Argument<string>("PATH") { Description = "A mount point" };
        var unmount = new Command("unmount", "Remove a mount and the metadata under it (the store's data is untouched)") { unmountPath };
        unmount.SetAction(WithClient(async (r, client, ct) =>
        {
            var target = r.GetRequiredValue(unmountPath);
            var count = await client.UnmountAsync(target, ct).ConfigureAwait(false);
            await _out.WriteLineAsync(Json(r) ? $"{{\"path\":{Quote(target)},\"deletedCount\":{count}}}" : $"unmounted {target} ({count} inode{(count == 1 ? "" : "s")} forgotten)").ConfigureAwait(false);
            return ExitCodes.Ok;
        }));

        var mountsStale = new Option<bool>("--stale") { Description = "Serve the read from the answering master's local state (may lag)" };
        var mounts = new Command("mounts", "Show the mount table") { mountsStale };
        mounts.SetAction(WithClient(async (r, client, ct) =>
        {
            var table = await client.GetMountTableAsync(r.GetValue(mountsStale) ? Consistency.Stale : Consistency.Linearizable, ct).ConfigureAwait(false);
            if (Json(r))
            {
                await _out.WriteLineAsync("[" + string.Join(",", table.Select(m => ProtoJson.Format(m))) + "]").ConfigureAwait(false);
                return ExitCodes.Ok;
            }

            var text = new TextTable("PATH", "URI", "MODE", "SHARED", "OPTIONS", "MOUNTED");
            foreach (var m in table)
            {
                var props = string.Join(",", m.Properties.OrderBy(p => p.Key, StringComparer.Ordinal).Select(p => p.Key + "=" + p.Value));
                text.AddRow(m.Path, m.UfsUri, m.ReadOnly ? "ro" : "rw", m.Shared ? "yes" : "no", props.Length == 0 ? "-" : props,
                    DateTimeOffset.FromUnixTimeMilliseconds(m.MountedAtMs).UtcDateTime.ToString("yyyy-MM-dd HH:mm:ss'Z'", CultureInfo.InvariantCulture));
            }

            text.WriteTo(_out);
            return ExitCodes.Ok;
        }));

        fs.Add(mount);
        fs.Add(unmount);
        fs.Add(mounts);
    }
}
