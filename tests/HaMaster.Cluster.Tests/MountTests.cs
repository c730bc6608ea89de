using System.Text.Json;
using Grpc.Core;
using HaMaster.Chaos.Core.Processes;
using HaMaster.Cluster.Tests.Infrastructure;
using HaMaster.Protos.V1;

namespace HaMaster.Cluster.Tests;

/// <summary>
/// Issue 18 on real processes: a temporary directory written outside HaMaster is mounted; its
/// metadata loads through any master, identically on every master (digest), survives a leader kill
/// and a restart (the masters snapshot every 50 entries); bad mount input changes nothing.
/// </summary>
public sealed class MountTests(FailoverClusterFixture fixture) : IClassFixture<FailoverClusterFixture>, IDisposable
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(60);
    private readonly string _store = Directory.CreateTempSubdirectory("hamaster-mount-").FullName;

    private TestCluster Cluster => fixture.Cluster;

    public void Dispose()
    {
        Directory.Delete(_store, recursive: true);
    }

    [Fact]
    public async Task A_mounted_directory_loads_pages_and_stays_identical_on_every_master_across_failover()
    {
        await Cluster.EnsureAllRunningAsync();
        const int bigCount = 3000;
        File.WriteAllText(Path.Join(_store, "a.txt"), "hello");
        Directory.CreateDirectory(Path.Join(_store, "sub", "deep"));
        File.WriteAllText(Path.Join(_store, "sub", "deep", "b.txt"), "0123456789");
        Directory.CreateDirectory(Path.Join(_store, "big"));
        for (var i = 0; i < bigCount; i++) File.WriteAllText(Path.Join(_store, "big", $"f{i:D5}"), "");

        var (leader, followers) = await Cluster.RolesAsync();
        var client = Cluster.CreateClient();
        await client.CreateDirectoryAsync("/mnt", recursive: true);
        var mount = await client.MountAsync("/mnt/local", "file://" + _store, new MountOptions { Properties = { } });
        Assert.Equal("/mnt/local", mount.Path);

        // A stat deep under the mount, through a follower, loads the missing ancestors.
        var follower = Cluster.RawClient(followers[0]);
        var b = (await follower.GetStatusAsync(new GetStatusRequest { Path = "/mnt/local/sub/deep/b.txt" })).Info;
        Assert.Equal((10UL, true, true), (b.Length, b.Completed, b.Persisted));
        Assert.StartsWith("f:10:", b.UfsFingerprint);

        // NEVER does not touch the store; the first ONCE listing loads the whole directory.
        Assert.Equal(["sub"], await ListAsync(follower, "/mnt/local", LoadMetadataType.Never, 0));
        await Expect.StatusAsync(StatusCode.NotFound, () => ListAsync(follower, "/mnt/local/big", LoadMetadataType.Never, 500));
        var big = await ListAsync(follower, "/mnt/local/big", LoadMetadataType.Once, 500);
        Assert.Equal(Enumerable.Range(0, bigCount).Select(i => $"f{i:D5}").ToList(), big);
        Assert.Equal(["a.txt", "big", "sub"], await ListAsync(client, "/mnt/local", LoadMetadataType.Once, 0));

        // Loaded once: a file written outside afterwards shows with ALWAYS, not with ONCE.
        File.WriteAllText(Path.Join(_store, "late.txt"), "x");
        Assert.DoesNotContain("late.txt", await ListAsync(client, "/mnt/local", LoadMetadataType.Once, 0));
        Assert.Equal(StatusCode.NotFound, (await Expect.StatusAsync(StatusCode.NotFound, () => client.GetStatusAsync("/mnt/local/late.txt").AsTask())).Status);
        Assert.Contains("late.txt", await ListAsync(client, "/mnt/local", LoadMetadataType.Always, 0));

        await Cluster.AllDigestsEqualAsync(Wait);

        // The leader dies: the mount table and loaded metadata survive; the old leader restarts and converges.
        await Cluster.KillAsync(leader);
        await Cluster.WaitForLeaderAsync(id => id != leader);
        var table = await client.GetMountTableAsync();
        Assert.Equal("file://" + _store, Assert.Single(table).UfsUri);
        Assert.Equal(bigCount, (await ListAsync(client, "/mnt/local/big", LoadMetadataType.Never, 0)).Count);
        await Cluster.StartMasterAsync(leader);
        await Cluster.RestartAsync(followers[1]);
        await Cluster.AllDigestsEqualAsync(Wait);
        var status = await Cluster.WebClusterAsync(leader);
        Assert.Equal("/mnt/local", status.GetProperty("mounts")[0].GetProperty("path").GetString());

        // The mount point, a.txt, late.txt, big and its files, sub, deep, b.txt.
        Assert.Equal((ulong)(7 + bigCount), await client.UnmountAsync("/mnt/local"));
        Assert.Empty(await client.GetMountTableAsync());
        Assert.True(File.Exists(Path.Join(_store, "big", "f00000")));
        await Cluster.AllDigestsEqualAsync(Wait);
    }

    [Fact]
    public async Task Bad_mount_input_gets_a_clear_status_and_changes_nothing()
    {
        await Cluster.EnsureAllRunningAsync();
        var client = Cluster.CreateClient();
        await client.CreateDirectoryAsync("/bad/existing", recursive: true);
        await client.MountAsync("/bad/m", "file://" + _store, new MountOptions { Properties = { } });

        // Writable: a directory is created in the store too; read-only: refused, the store untouched.
        await client.CreateDirectoryAsync("/bad/m/made/here", recursive: true);
        Assert.True(Directory.Exists(Path.Join(_store, "made", "here")));
        Assert.True((await client.GetStatusAsync("/bad/m/made")).Persisted);
        await client.UpdateMountAsync("/bad/m", new MountOptions { ReadOnly = true });
        await Expect.StatusAsync(StatusCode.FailedPrecondition, () => client.CreateDirectoryAsync("/bad/m/refused").AsTask());
        Assert.False(Directory.Exists(Path.Join(_store, "refused")));
        await Cluster.AllDigestsEqualAsync(Wait);
        var before = (await Cluster.DigestAsync(await Cluster.WaitForLeaderAsync())).Split(':')[1];

        var unknown = await Expect.StatusAsync(StatusCode.InvalidArgument, () => client.MountAsync("/bad/x", "hdfs://nn/data").AsTask());
        Assert.Contains("hdfs", unknown.Message);
        await Expect.StatusAsync(StatusCode.NotFound, () => client.MountAsync("/bad/x", "file://" + Path.Join(_store, "missing")).AsTask());
        await Expect.StatusAsync(StatusCode.AlreadyExists, () => client.MountAsync("/bad/existing", "file:///tmp").AsTask());
        await Expect.StatusAsync(StatusCode.InvalidArgument, () => client.MountAsync("/bad/m/inner", "file:///var").AsTask());
        await Expect.StatusAsync(StatusCode.FailedPrecondition, () => client.MountAsync("/bad/y", "file://" + _store).AsTask());
        await Expect.StatusAsync(StatusCode.InvalidArgument, () => client.MountAsync("/bad/z", "file:///tmp", new MountOptions { Properties = { ["x"] = "1" } }).AsTask());
        await Expect.StatusAsync(StatusCode.NotFound, () => client.UnmountAsync("/bad/existing").AsTask());
        await Expect.StatusAsync(StatusCode.InvalidArgument, () => client.UnmountAsync("/").AsTask());
        await Expect.StatusAsync(StatusCode.FailedPrecondition, () => client.DeleteAsync("/bad", recursive: true).AsTask());
        await Expect.StatusAsync(StatusCode.InvalidArgument, () => client.GetStatusAsync(new GetStatusRequest { Path = "/bad/m", LoadMetadata = (LoadMetadataType)7 }).AsTask());

        await Cluster.AllDigestsEqualAsync(Wait);
        // Refused commands advance the applied index, never the state.
        Assert.Equal(before, (await Cluster.DigestAsync(await Cluster.WaitForLeaderAsync())).Split(':')[1]);
        Assert.Contains(await client.GetMountTableAsync(), m => m.Path == "/bad/m");
        await client.UnmountAsync("/bad/m");
    }

    private static async Task<List<string>> ListAsync(HaMaster.Client.HaMasterClient client, string path, LoadMetadataType load, uint pageSize)
    {
        var names = new List<string>();
        await foreach (var entry in client.ListAllAsync(path, pageSize, Consistency.Linearizable, load)) names.Add(entry.Name);
        return names;
    }


}
