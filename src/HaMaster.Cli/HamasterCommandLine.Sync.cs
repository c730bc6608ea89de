using System.CommandLine;
using System.Globalization;

namespace HaMaster.Cli;

// `hamaster fs sync`: metadata sync of mounted stores (issue 18).
public sealed partial class HamasterCommandLine
{
    private void AddSyncCommands(Command fs)
    {
        var syncPath = new Argument<string>("PATH") { Description = "A path under a mount" };
        var recursive = new Option<bool>("--recursive", "-R") { Description = "Also every subdirectory" };
        var concurrency = new Option<uint>("--concurrency") { Description = "Directories compared at once with --recursive (0 = the master's default, 4; at most 16)" };
        var sync = new Command("sync", "Compare PATH with its store and journal only the differences") { syncPath, recursive, concurrency };
        sync.SetAction(WithClient(async (r, client, ct) =>
        {
            var result = await client.SyncMetadataAsync(r.GetRequiredValue(syncPath), r.GetValue(recursive), r.GetValue(concurrency), ct).ConfigureAwait(false);
            await _out.WriteLineAsync(Json(r)
                ? ProtoJson.Format(result)
                : string.Create(CultureInfo.InvariantCulture,
                    $"synced {r.GetRequiredValue(syncPath)}: {result.Directories} directories, {result.EntriesCompared} entries compared, {result.Created} created, {result.Updated} updated, {result.Deleted} deleted, {result.LogEntries} log entries, {result.DurationMs} ms")).ConfigureAwait(false);
            return ExitCodes.Ok;
        }));
        fs.Add(sync);
    }
}
