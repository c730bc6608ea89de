using System.Text.Json;
using HaMaster.Cli;

namespace HaMaster.Client.Tests;

public sealed class CliTests : IAsyncLifetime
{
    private FakeCluster _cluster = null!;

    public async Task InitializeAsync() => _cluster = await FakeCluster.StartAsync();

    public async Task DisposeAsync() => await _cluster.DisposeAsync();

    private async Task<(int Code, string Out, string Err)> RunAsync(params string[] args)
    {
        using var output = new StringWriter();
        using var error = new StringWriter();
        var all = new List<string> { "--masters", $"{_cluster.DownAddress},{_cluster.Follower.Address}", "--timeout", "2s" };
        all.AddRange(args);
        var code = await HamasterCommandLine.RunAsync(all.ToArray(), output, error);
        return (code, output.ToString(), error.ToString());
    }

    [Fact]
    public async Task Usage_errors_exit_2_without_calling_a_master()
    {
        Assert.Equal(ExitCodes.Usage, (await RunAsync("fs", "frobnicate")).Code);
        Assert.Equal(ExitCodes.Usage, (await RunAsync("fs", "mkdir")).Code);
        var badMode = await RunAsync("fs", "chmod", "9x9", "/a");
        Assert.Equal(ExitCodes.Usage, badMode.Code);
        Assert.Contains("octal", badMode.Err, StringComparison.Ordinal);
        // The load generator is its own tool now (hamaster-bench): `hamaster bench` is unknown.
        Assert.Equal(ExitCodes.Usage, (await RunAsync("bench", "--workload", "write")).Code);
        Assert.Equal(ExitCodes.Usage, (await RunAsync("--masters", "not-an-address", "fs", "stat", "/")).Code);
        Assert.Equal(0, _cluster.Leader.Calls("CreateDirectory") + _cluster.Leader.Calls("SetAttribute") + _cluster.Leader.Calls("GetStatus"));
    }

    [Fact]
    public async Task Credential_flag_mistakes_are_usage_errors_naming_the_flag()
    {
        var both = await RunAsync("--token", "a.b.c", "--token-file", "/nonexistent", "fs", "stat", "/");
        Assert.Equal(ExitCodes.Usage, both.Code);
        Assert.Contains("--token-file", both.Err, StringComparison.Ordinal);
        var keyOnly = await RunAsync("--tls-key", "/nonexistent.key", "fs", "stat", "/");
        Assert.Equal(ExitCodes.Usage, keyOnly.Code);
        Assert.Contains("--tls-key needs --tls-cert", keyOnly.Err, StringComparison.Ordinal);
        var missingFile = await RunAsync("--token-file", "/nonexistent-token-file", "fs", "stat", "/");
        Assert.Equal(ExitCodes.Usage, missingFile.Code);
        Assert.Contains("--token-file", missingFile.Err, StringComparison.Ordinal);
        Assert.Equal(0, _cluster.Leader.Calls("GetStatus"));
    }

    [Fact]
    public async Task Help_documents_the_exit_codes()
    {
        var help = await RunAsync("--help");
        Assert.Equal(ExitCodes.Ok, help.Code);
        Assert.Contains("3 not found", help.Out, StringComparison.Ordinal);
        Assert.Contains("6 unavailable", help.Out, StringComparison.Ordinal);
        Assert.Contains("cluster", help.Out, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Mount_commands_refuse_bad_usage_without_a_master_call()
    {
        var badLoad = await RunAsync("fs", "ls", "--load-metadata", "sometimes", "/x");
        Assert.Equal(ExitCodes.Usage, badLoad.Code);
        Assert.Contains("never, once or always", badLoad.Err, StringComparison.Ordinal);
        Assert.Equal(ExitCodes.Usage, (await RunAsync("fs", "mount", "/m")).Code);
        var badOption = await RunAsync("fs", "mount", "--option", "novalue", "/m", "file:///tmp");
        Assert.Equal(ExitCodes.Usage, badOption.Code);
        Assert.Contains("KEY=VALUE", badOption.Err, StringComparison.Ordinal);
        Assert.Equal(ExitCodes.Usage, (await RunAsync("fs", "unmount")).Code);
        Assert.Equal(ExitCodes.Usage, (await RunAsync("fs", "persist")).Code);
        Assert.Equal(ExitCodes.Usage, (await RunAsync("fs", "rm", "--alluxio-only")).Code);
    }

    [Fact]
    public async Task Fs_commands_work_and_map_failures_to_exit_codes()
    {
        Assert.Equal(ExitCodes.Ok, (await RunAsync("fs", "mkdir", "-p", "/x/y")).Code);
        Assert.Equal(ExitCodes.Ok, (await RunAsync("fs", "touch", "/x/y/file")).Code);
        Assert.Equal(ExitCodes.AlreadyExists, (await RunAsync("fs", "touch", "/x/y/file")).Code);
        Assert.Equal(ExitCodes.AlreadyExists, (await RunAsync("fs", "mkdir", "/x")).Code);

        var missing = await RunAsync("fs", "stat", "/nope");
        Assert.Equal(ExitCodes.NotFound, missing.Code);
        Assert.Contains("NotFound", missing.Err, StringComparison.Ordinal);

        Assert.Equal(ExitCodes.Precondition, (await RunAsync("fs", "rm", "/x")).Code);
        Assert.Equal(ExitCodes.Precondition, (await RunAsync("fs", "stat", "relative")).Code);

        var ls = await RunAsync("fs", "ls", "/x/y");
        Assert.Equal(ExitCodes.Ok, ls.Code);
        Assert.Equal("file", ls.Out.Trim());

        Assert.Equal(ExitCodes.Ok, (await RunAsync("fs", "chmod", "600", "/x/y/file")).Code);
        var longLs = await RunAsync("fs", "ls", "-l", "/x");
        Assert.Contains("drwxr-xr-x", longLs.Out, StringComparison.Ordinal);
        Assert.Contains("y/", longLs.Out, StringComparison.Ordinal);
        var stat = await RunAsync("fs", "stat", "/x/y/file");
        Assert.Contains("-rw------- (0600)", stat.Out, StringComparison.Ordinal);
        Assert.Contains("completed   yes", stat.Out, StringComparison.Ordinal);

        Assert.Equal(ExitCodes.Ok, (await RunAsync("fs", "mv", "/x/y/file", "/x/moved")).Code);
        Assert.Equal(ExitCodes.NotFound, (await RunAsync("fs", "mv", "/x/y/file", "/x/again")).Code);
        var rm = await RunAsync("fs", "rm", "-r", "/x");
        Assert.Equal(ExitCodes.Ok, rm.Code);
        Assert.Contains("3 inodes", rm.Out, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Setttl_sets_the_time_to_live_and_action_and_stat_shows_them()
    {
        Assert.Equal(ExitCodes.Ok, (await RunAsync("fs", "touch", "/t")).Code);
        var set = await RunAsync("fs", "setttl", "/t", "10m", "--action", "free");
        Assert.Equal(ExitCodes.Ok, set.Code);
        Assert.Contains("/t expires 10m after creation", set.Out, StringComparison.Ordinal);
        Assert.Contains("then: free", set.Out, StringComparison.Ordinal);
        var stat = await RunAsync("fs", "stat", "/t");
        Assert.Contains("ttl ms      600000", stat.Out, StringComparison.Ordinal);
        Assert.Contains("ttl action  free", stat.Out, StringComparison.Ordinal);

        Assert.Equal(ExitCodes.Ok, (await RunAsync("fs", "setttl", "/t", "7d")).Code);
        Assert.Contains("ttl ms      604800000", (await RunAsync("fs", "stat", "/t")).Out, StringComparison.Ordinal);
        var cleared = await RunAsync("fs", "setttl", "/t", "0");
        Assert.Contains("/t has no time to live", cleared.Out, StringComparison.Ordinal);

        var calls = _cluster.Leader.Calls("SetAttribute");
        var badDuration = await RunAsync("fs", "setttl", "/t", "soon");
        Assert.Equal(ExitCodes.Usage, badDuration.Code);
        Assert.Contains("DURATION", badDuration.Err, StringComparison.Ordinal);
        Assert.Equal(ExitCodes.Usage, (await RunAsync("fs", "setttl", "/t", "200000d")).Code);
        Assert.Equal(ExitCodes.Usage, (await RunAsync("fs", "setttl", "/t", "1h", "--action", "archive")).Code);
        Assert.Equal(calls, _cluster.Leader.Calls("SetAttribute"));
    }

    [Fact]
    public async Task Json_output_is_machine_readable()
    {
        await RunAsync("fs", "mkdir", "/j");
        for (var i = 0; i < 3; i++)
        {
            await RunAsync("fs", "touch", $"/j/f{i}");
        }

        var ls = await RunAsync("--json", "fs", "ls", "--page-size", "2", "/j");
        using (var doc = JsonDocument.Parse(ls.Out))
        {
            Assert.Equal(3, doc.RootElement.GetArrayLength());
            Assert.Equal("/j/f2", doc.RootElement[2].GetProperty("path").GetString());
        }

        var stat = await RunAsync("fs", "stat", "/j/f1", "--json");
        using (var doc = JsonDocument.Parse(stat.Out))
        {
            Assert.Equal("INODE_KIND_FILE", doc.RootElement.GetProperty("kind").GetString());
        }

        var failure = await RunAsync("--json", "fs", "stat", "/none");
        Assert.Equal(ExitCodes.NotFound, failure.Code);
        using (var doc = JsonDocument.Parse(failure.Err))
        {
            Assert.Equal("NotFound", doc.RootElement.GetProperty("error").GetProperty("status").GetString());
            Assert.Equal(3, doc.RootElement.GetProperty("error").GetProperty("exitCode").GetInt32());
        }

        var status = await RunAsync("cluster", "status", "--json");
        using (var doc = JsonDocument.Parse(status.Out))
        {
            Assert.Equal(3, doc.RootElement.GetProperty("members").GetArrayLength());
            Assert.Equal(_cluster.Leader.Address, doc.RootElement.GetProperty("leaderAddress").GetString());
        }
    }

    [Fact]
    public async Task Cluster_status_prints_an_aligned_table_with_the_leader_marked()
    {
        var status = await RunAsync("cluster", "status");

        Assert.Equal(ExitCodes.Ok, status.Code);
        var lines = status.Out.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => l.TrimEnd('\r')).ToArray();
        Assert.StartsWith($"leader: 1 at {_cluster.Leader.Address}, term 3", lines[0], StringComparison.Ordinal);
        Assert.StartsWith("ID  CLIENT", lines[1], StringComparison.Ordinal);
        Assert.Equal(5, lines.Length);
        Assert.StartsWith("1*", lines[2], StringComparison.Ordinal);
        Assert.Contains("leader", lines[2], StringComparison.Ordinal);
        Assert.Contains("unreachable", lines[4], StringComparison.Ordinal);
        // Columns line up: every row has the CLIENT column at the same offset.
        var clientColumn = lines[1].IndexOf("CLIENT", StringComparison.Ordinal);
        Assert.All(lines.Skip(2), l => Assert.Equal("127.0.0.1:", l.Substring(clientColumn, 10)));
    }

    [Fact]
    public async Task Cluster_status_without_a_leader_prints_the_table_and_exits_6()
    {
        _cluster.Follower.ReportLeader = false;
        _cluster.Leader.ReportLeader = false;
        _cluster.LeaderAddress = "";

        var status = await RunAsync("cluster", "status");

        Assert.Equal(ExitCodes.Unavailable, status.Code);
        Assert.Contains("leader: none (election under way)", status.Out, StringComparison.Ordinal);
        Assert.DoesNotContain("*", status.Out, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Cluster_operations_call_the_admin_service()
    {
        var add = await RunAsync("cluster", "add", "4", "127.0.0.1:19203", "127.0.0.1:19303");
        Assert.Equal(ExitCodes.Ok, add.Code);
        Assert.Contains("added master 4", add.Out, StringComparison.Ordinal);
        Assert.Equal(1, _cluster.Leader.Calls("AddMaster"));

        Assert.Equal(ExitCodes.Precondition, (await RunAsync("cluster", "remove", "1")).Code);
        Assert.Equal(ExitCodes.Ok, (await RunAsync("cluster", "remove", "2")).Code);

        var transfer = await RunAsync("cluster", "transfer-leader", "2");
        Assert.Contains("leader is now master 2", transfer.Out, StringComparison.Ordinal);
        Assert.Equal(ExitCodes.Ok, (await RunAsync("cluster", "transfer-leader")).Code);

        var snapshot = await RunAsync("cluster", "snapshot");
        Assert.Contains("snapshot at index 99", snapshot.Out, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Unreachable_cluster_exits_6()
    {
        using var output = new StringWriter();
        using var error = new StringWriter();
        var code = await HamasterCommandLine.RunAsync(["--masters", _cluster.DownAddress, "--timeout", "500ms", "--retry-budget", "1s", "fs", "stat", "/"], output, error);
        Assert.Equal(ExitCodes.Unavailable, code);
        Assert.Contains("Unavailable", error.ToString(), StringComparison.Ordinal);
    }
}
