using System.Diagnostics;
using System.Globalization;
using System.Text;
using HaMaster.Ops.Tests.Infrastructure;
using Xunit.Abstractions;

namespace HaMaster.Ops.Tests;

/// <summary>
/// Issue 9 browser test: a FOLLOWER's status page in headless Debian chromium (npm
/// playwright-core, interop/status_page.js) shows the leader GetClusterInfo names, refreshes by
/// itself to the new leader after a leadership transfer, and is saved as a screenshot. The
/// cluster has a secret, so the page's API needs it (given in the URL's fragment, #token=...).
/// Missing chromium or playwright-core fails with the fix, never skips.
/// </summary>
public sealed class StatusPageBrowserTests(ITestOutputHelper output)
{
    private const string Chromium = "/usr/bin/chromium";
    private const string Secret = "status-page-test-secret-0123456789";
    private static readonly TimeSpan LineTimeout = TimeSpan.FromSeconds(60);

    [Fact]
    public async Task Follower_status_page_shows_the_leader_and_follows_a_leadership_transfer()
    {
        Assert.True(File.Exists(Chromium), $"{Chromium} is missing: install Debian's 'chromium' package (apt-get install -y chromium; scripts/setup.sh should do it)");
        var script = Path.Combine(OpsLayout.InteropDirectory, "status_page.js");
        Assert.True(File.Exists(Path.Combine(OpsLayout.InteropDirectory, "node_modules", "playwright-core", "package.json")),
            $"playwright-core is not installed in {OpsLayout.InteropDirectory}: run `npm ci` there (scripts/setup.sh does it for every tests/*/interop folder)");

        // Security on (a cluster secret): the page's API needs the secret, which the page takes
        // from the URL's fragment (#token=...) and sends as a bearer.
        await using var cluster = await OpsCluster.StartAsync(new OpsClusterOptions { ExtraArguments = ["--cluster-secret", Secret] });
        var leader = await cluster.WaitForLeaderAsync();
        var admin = cluster.CreateClient(o => o with { CallTimeout = TimeSpan.FromSeconds(30), TotalRetryBudget = TimeSpan.FromSeconds(60), ClusterSecret = Secret });
        var info = await admin.GetClusterInfoAsync();
        Assert.Equal(leader, info.LeaderId);
        var follower = info.Members.Select(m => m.Id).First(id => id != leader);
        var target = info.Members.Select(m => m.Id).First(id => id != leader && id != follower);

        var screenshot = Path.Combine(AppContext.BaseDirectory, "screenshots", "status-page-follower.png");
        Directory.CreateDirectory(Path.GetDirectoryName(screenshot)!);
        File.Delete(screenshot);
        var profile = Directory.CreateTempSubdirectory("hamaster-chromium-").FullName;
        using (var http = new HttpClient { Timeout = TimeSpan.FromSeconds(10) })
        {
            using var anonymous = await http.GetAsync(new Uri($"http://{cluster.Master(follower).WebAddress}/api/cluster"));
            Assert.Equal(System.Net.HttpStatusCode.Unauthorized, anonymous.StatusCode);
        }

        var url = $"http://{cluster.Master(follower).WebAddress}/#token={Uri.EscapeDataString(Secret)}";
        var start = new ProcessStartInfo("node")
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = OpsLayout.InteropDirectory,
            StandardOutputEncoding = Encoding.UTF8,
        };
        foreach (var argument in new[] { script, url, leader.ToString(CultureInfo.InvariantCulture), screenshot, profile })
        {
            start.ArgumentList.Add(argument);
        }

        using var node = Process.Start(start) ?? throw new InvalidOperationException("node did not start");
        var stderr = new StringBuilder();
        node.ErrorDataReceived += (_, e) =>
        {
            lock (stderr)
            {
                stderr.AppendLine(e.Data);
            }
        };
        node.BeginErrorReadLine();
        try
        {
            var page = await ReadLineAsync(node, "PAGE ", stderr);
            Assert.Equal($"PAGE leader={leader} members=3", page);

            var newLeader = await admin.TransferLeadershipAsync(target);
            Assert.Equal(target, newLeader);
            Assert.Equal(target, (await admin.GetClusterInfoAsync()).LeaderId);
            await node.StandardInput.WriteLineAsync($"EXPECT {target}");
            await node.StandardInput.FlushAsync();
            node.StandardInput.Close();

            var saved = await ReadLineAsync(node, "SCREENSHOT ", stderr);
            Assert.Equal("DONE", await ReadLineAsync(node, "DONE", stderr));
            Assert.Equal(screenshot, saved["SCREENSHOT ".Length..]);
            Assert.True(new FileInfo(screenshot).Length > 1000, "the screenshot is empty");
            output.WriteLine($"status page screenshot: {screenshot}");
            Console.WriteLine($"status page screenshot: {screenshot}");
            using var exit = new CancellationTokenSource(TimeSpan.FromSeconds(30));
            await node.WaitForExitAsync(exit.Token);
            Assert.Equal(0, node.ExitCode);
        }
        finally
        {
            if (!node.HasExited)
            {
                // Only the node process this test started, with the chromium it launched.
                node.Kill(entireProcessTree: true);
                using var reap = new CancellationTokenSource(TimeSpan.FromSeconds(10));
                await node.WaitForExitAsync(reap.Token);
            }

            try
            {
                Directory.Delete(profile, recursive: true);
            }
            catch (IOException)
            {
                // chromium may still flush its profile; the temp cleaner takes it.
            }
        }
    }

    /// <summary>Reads stdout lines (bounded) until one starts with <paramref name="prefix"/>; a FAIL line or EOF fails the test.</summary>
    private static async Task<string> ReadLineAsync(Process node, string prefix, StringBuilder stderr)
    {
        using var timeout = new CancellationTokenSource(LineTimeout);
        for (var i = 0; i < 1000; i++)
        {
            string? line;
            try
            {
                line = await node.StandardOutput.ReadLineAsync(timeout.Token);
            }
            catch (OperationCanceledException)
            {
                line = null;
                Assert.Fail($"status_page.js printed no '{prefix}' line within {LineTimeout.TotalSeconds:0} s; stderr: {Snapshot(stderr)}");
            }

            if (line is null)
            {
                Assert.Fail($"status_page.js ended before printing '{prefix}'; stderr: {Snapshot(stderr)}");
            }

            if (line.StartsWith("FAIL", StringComparison.Ordinal))
            {
                Assert.Fail($"status_page.js: {line}; stderr: {Snapshot(stderr)}");
            }

            if (line.StartsWith(prefix, StringComparison.Ordinal))
            {
                return line;
            }
        }

        Assert.Fail($"status_page.js printed 1000 lines without '{prefix}'");
        return string.Empty;
    }

    private static string Snapshot(StringBuilder text)
    {
        lock (text)
        {
            return text.ToString();
        }
    }
}
