using System.Text.Json;
using Grpc.Core;
using HaMaster.Chaos.Core.Processes;
using HaMaster.Cluster.Tests.Infrastructure;
using HaMaster.Protos.V1;
using HaMaster.Testing;

namespace HaMaster.Cluster.Tests;

/// <summary>
/// Issue 18, metadata sync and s3:// mounts on real processes: outside changes to a mounted store
/// are invisible until a sync (or sync_interval_ms) and visible after; an unchanged sync journals
/// nothing; a recursive sync cut by a leader kill leaves identical state on every master and
/// completes on the client's retry; an s3:// bucket written outside HaMaster lists the same on
/// every master, and bad credentials or an unreachable endpoint are refused at mount time.
/// </summary>
public sealed class SyncTests(FailoverClusterFixture fixture) : IClassFixture<FailoverClusterFixture>, IDisposable
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(60);
    private readonly string _store = Directory.CreateTempSubdirectory("hamaster-sync-").FullName;
    private readonly HttpClient _http = new() { Timeout = TimeSpan.FromSeconds(10) };

    private TestCluster Cluster => fixture.Cluster;

    public void Dispose()
    {
        _http.Dispose();
        Directory.Delete(_store, recursive: true);
    }

    [Fact]
    public async Task Outside_changes_show_only_after_sync_and_an_unchanged_sync_journals_nothing()
    {
        await Cluster.EnsureAllRunningAsync();
        File.WriteAllText(Path.Join(_store, "keep.txt"), "same");
        File.WriteAllText(Path.Join(_store, "change.txt"), "v1");
        File.WriteAllText(Path.Join(_store, "gone.txt"), "bye");
        var client = Cluster.CreateClient();
        await client.CreateDirectoryAsync("/sync", recursive: true);
        await client.MountAsync("/sync/m", "file://" + _store);
        Assert.Equal(["change.txt", "gone.txt", "keep.txt"], await ListAsync(client, "/sync/m"));

        // Outside: a new file, a changed file, a deleted file, a new subdirectory with a file.
        File.WriteAllText(Path.Join(_store, "new.txt"), "n");
        File.WriteAllText(Path.Join(_store, "change.txt"), "version 2");
        File.SetLastWriteTimeUtc(Path.Join(_store, "change.txt"), DateTime.UtcNow.AddMinutes(1));
        File.Delete(Path.Join(_store, "gone.txt"));
        Directory.CreateDirectory(Path.Join(_store, "dir"));
        File.WriteAllText(Path.Join(_store, "dir", "inner.txt"), "i");

        // Sync disabled (the default, and -1): the old view.
        Assert.Equal(["change.txt", "gone.txt", "keep.txt"], await ListAsync(client, "/sync/m"));
        Assert.Equal(["change.txt", "gone.txt", "keep.txt"], await ListAsync(client, "/sync/m", syncIntervalMs: -1));
        Assert.Equal(2UL, (await client.GetStatusAsync("/sync/m/change.txt")).Length);
        await Expect.StatusAsync(StatusCode.InvalidArgument, () => client.GetStatusAsync(new GetStatusRequest { Path = "/sync/m", SyncIntervalMs = -2 }).AsTask());

        // A recursive sync through a follower journals exactly the differences.
        var (_, followers) = await Cluster.RolesAsync();
        var result = await Cluster.RawClient(followers[0]).SyncMetadataAsync("/sync/m", recursive: true);
        Assert.Equal((3UL, 1UL, 1UL), (result.Created, result.Updated, result.Deleted)); // new.txt, dir, inner.txt; change.txt; gone.txt
        // Progress of a sync is visible while it runs on the serving master's /metrics (counters only grow).
        Assert.True(await Cluster.MetricAsync(followers[0], "hamaster_ufs_sync_directories_total") >= result.Directories);
        Assert.True(await Cluster.MetricAsync(followers[0], "hamaster_ufs_sync_entries_compared_total") >= result.EntriesCompared);
        Assert.Equal(0, await Cluster.MetricAsync(followers[0], "hamaster_ufs_syncs_in_progress"));
        Assert.Equal(["change.txt", "dir", "keep.txt", "new.txt"], await ListAsync(client, "/sync/m"));
        Assert.Equal(["inner.txt"], await ListAsync(client, "/sync/m/dir"));
        Assert.Equal(9UL, (await client.GetStatusAsync("/sync/m/change.txt")).Length);
        Assert.True((await client.GetStatusAsync("/sync/m")).LastSyncMs > 0);
        await Cluster.AllDigestsEqualAsync(Wait);

        // Nothing changed since: a sync reads the store and journals nothing.
        var leader = await Cluster.WaitForLeaderAsync();
        var before = await Cluster.DigestAsync(leader);
        var again = await client.SyncMetadataAsync("/sync/m", recursive: true);
        Assert.Equal((0UL, 0UL, 0UL, 0UL, 2UL), (again.LogEntries, again.Created, again.Updated, again.Deleted, again.Directories));
        Assert.Equal(before, await Cluster.DigestAsync(leader));

        // sync_interval_ms 0 on a listing sees the next outside change at once; a large interval right after a sync does not.
        File.Delete(Path.Join(_store, "keep.txt"));
        Assert.Contains("keep.txt", await ListAsync(client, "/sync/m", syncIntervalMs: 3_600_000));
        Assert.DoesNotContain("keep.txt", await ListAsync(client, "/sync/m", syncIntervalMs: 0));
        File.WriteAllText(Path.Join(_store, "stat.txt"), "s");
        Assert.Equal(1UL, (await client.GetStatusAsync(new GetStatusRequest { Path = "/sync/m/stat.txt", SyncIntervalMs = 0, LoadMetadata = LoadMetadataType.Never })).Info.Length);
        await Cluster.AllDigestsEqualAsync(Wait);
        await Expect.StatusAsync(StatusCode.NotFound, () => client.SyncMetadataAsync("/sync").AsTask());
        await client.UnmountAsync("/sync/m");
    }

    [Fact]
    public async Task A_sync_cut_by_a_leader_kill_leaves_identical_masters_and_completes_on_retry()
    {
        await Cluster.EnsureAllRunningAsync();
        const int directories = 40, files = 250;
        for (var d = 0; d < directories; d++)
        {
            var directory = Directory.CreateDirectory(Path.Join(_store, $"d{d:D2}")).FullName;
            for (var f = 0; f < files; f++) File.WriteAllText(Path.Join(directory, $"f{f:D4}"), "");
        }

        var client = Cluster.CreateClient();
        await client.CreateDirectoryAsync("/cut", recursive: true);
        await client.MountAsync("/cut/m", "file://" + _store);
        var leader = await Cluster.WaitForLeaderAsync();
        var start = await Cluster.AppliedIndexAsync(leader);

        var sync = client.SyncMetadataAsync("/cut/m", recursive: true, concurrency: 2).AsTask();
        await Eventually.TrueAsync("the sync to journal a few pages", async () =>
            sync.IsCompleted || await Cluster.AppliedIndexAsync(leader) > start + 5, Wait, Cluster.Diagnostics);
        await Cluster.KillAsync(leader);
        var completed = await sync; // the client retries on the new leader; the comparison restarts and converges
        await Cluster.WaitForLeaderAsync(id => id != leader);
        Assert.Equal(directories + 1UL, completed.Directories);
        await Cluster.AllDigestsEqualAsync(Wait);

        for (var d = 0; d < directories; d += 13) Assert.Equal(files, (await ListAsync(client, $"/cut/m/d{d:D2}")).Count);
        var after = await client.SyncMetadataAsync("/cut/m", recursive: true);
        Assert.Equal(0UL, after.LogEntries);
        await Cluster.StartMasterAsync(leader);
        await Cluster.AllDigestsEqualAsync(Wait);
        await client.UnmountAsync("/cut/m");
    }

    [Fact]
    public async Task An_s3_bucket_written_outside_lists_the_same_on_every_master_and_bad_stores_are_refused()
    {
        await Cluster.EnsureAllRunningAsync();
        await using var s3 = await S3rverProcess.StartAsync(Path.Combine(RepositoryLayout.RepositoryRoot, "tests", "HaMaster.Ufs.Tests", "interop"));
        var bucket = S3rverProcess.NewBucketName("sync");
        await s3.CreateBucketAsync(bucket);
        foreach (var (key, body) in new[] { ("data/a.txt", "alpha"), ("data/sub/b.txt", "bravo!"), ("other/c.txt", "x") })
        {
            using var put = await _http.PutAsync(new Uri(s3.Endpoint, $"{bucket}/{key}"), new StringContent(body));
            Assert.True(put.IsSuccessStatusCode, $"PUT {key}: {(int)put.StatusCode}");
        }

        var client = Cluster.CreateClient();
        await client.CreateDirectoryAsync("/s3", recursive: true);
        var properties = new MountOptions();
        properties.Properties.Add(s3.Properties());
        await client.MountAsync("/s3/bucket", $"s3://{bucket}/data", properties);
        Assert.Equal(["a.txt", "sub"], await ListAsync(client, "/s3/bucket"));
        foreach (var master in Cluster.Running)
        {
            Assert.Equal(["a.txt", "sub"], await Cluster.ListNamesOnAsync(master.Id, "/s3/bucket", Consistency.Linearizable));
            Assert.Equal(6UL, (await Cluster.RawClient(master.Id).GetStatusAsync("/s3/bucket/sub/b.txt")).Length);
        }

        await Cluster.AllDigestsEqualAsync(Wait);
        var leader = await Cluster.WaitForLeaderAsync();
        var before = (await Cluster.DigestAsync(leader)).Split(':')[1];

        var badKey = new MountOptions();
        badKey.Properties.Add(s3.Properties());
        badKey.Properties["s3.access_key"] = "NOT-A-KEY";
        await Expect.StatusAsync(StatusCode.PermissionDenied, () => client.MountAsync("/s3/badkey", $"s3://{bucket}/other", badKey).AsTask());
        var unreachable = new MountOptions { Properties = { ["s3.endpoint"] = "http://127.0.0.1:1/", ["s3.timeout_ms"] = "2000", ["s3.max_retries"] = "0", ["s3.access_key"] = "k", ["s3.secret_key"] = "s" } };
        await Expect.StatusAsync(StatusCode.Unavailable, () => client.MountAsync("/s3/down", $"s3://{bucket}/other", unreachable).AsTask());
        await Cluster.AllDigestsEqualAsync(Wait);
        Assert.Equal(before, (await Cluster.DigestAsync(await Cluster.WaitForLeaderAsync())).Split(':')[1]);
        Assert.Single(await client.GetMountTableAsync(), m => m.Path.StartsWith("/s3/", StringComparison.Ordinal));
        await client.UnmountAsync("/s3/bucket");
    }

    private static async Task<List<string>> ListAsync(HaMaster.Client.HaMasterClient client, string path, long? syncIntervalMs = null)
    {
        var request = new ListStatusRequest { Path = path };
        if (syncIntervalMs is { } interval) request.SyncIntervalMs = interval;
        var names = new List<string>();
        for (var page = 0; page < 1000; page++)
        {
            var response = await client.ListStatusAsync(request);
            names.AddRange(response.Entries.Select(e => e.Name));
            if (response.NextPageToken.Length == 0) return names;
            request.PageToken = response.NextPageToken;
        }

        throw new InvalidOperationException($"listing {path} did not end");
    }


}
