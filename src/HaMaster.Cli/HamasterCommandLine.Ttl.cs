using System.CommandLine;
using System.Globalization;
using HaMaster.Protos.V1;
using FileInfo = HaMaster.Protos.V1.FileInfo;

namespace HaMaster.Cli;

// `hamaster fs setttl PATH DURATION [--action delete|free] [--recursive]` (Alluxio's `fs setTtl`).
public sealed partial class HamasterCommandLine
{
    private Command BuildSetTtlCommand()
    {
        var target = new Argument<string>("PATH") { Description = "Absolute path, e.g. /data/a" };
        var ttl = new Argument<long>("DURATION")
        {
            Description = "Time to live after creation: 500ms, 30s, 10m, 2h, 7d (a bare number is seconds); 0 clears it",
            CustomParser = arg =>
            {
                var text = arg.Tokens.Count == 1 ? arg.Tokens[0].Value : string.Empty;
                if (TtlText.TryParse(text, out var ms)) return ms;
                arg.AddError($"DURATION must be 0 or a duration such as 500ms, 30s, 10m, 2h or 7d (at most 100 years), got '{text}'.");
                return 0;
            },
        };
        var action = new Option<string>("--action")
        {
            Description = "What happens when it runs out: delete (default; a directory goes with its subtree) or free (forget the blocks, keep the metadata)",
            DefaultValueFactory = _ => "delete",
        };
        action.AcceptOnlyFromAmong("delete", "free");
        var recursive = new Option<bool>("--recursive", "-R") { Description = "Set it on every inode below a directory as well" };
        var command = new Command("setttl", "Set a file's or directory's time to live and its action") { target, ttl, action, recursive };
        command.SetAction(WithClient(async (r, client, ct) =>
        {
            var request = new SetAttributeRequest
            {
                Path = r.GetRequiredValue(target),
                TtlMs = r.GetValue(ttl),
                TtlAction = r.GetValue(action) == "free" ? TtlAction.Free : TtlAction.Delete,
                Recursive = r.GetValue(recursive),
            };
            var response = await client.SetAttributeAsync(request, ct).ConfigureAwait(false);
            var info = response.Info ?? new FileInfo { Path = request.Path, TtlMs = request.TtlMs, TtlAction = request.TtlAction };
            var text = info.TtlMs == 0
                ? $"{info.Path} has no time to live"
                : $"{info.Path} expires {TtlText.Format(info.TtlMs)} after creation ({FormatTime(info.CreationTimeMs + info.TtlMs)}), then: {TtlText.ActionName(info.TtlAction)}";
            return await WriteInfoAsync(r, info, text).ConfigureAwait(false);
        }));
        return command;
    }
}
