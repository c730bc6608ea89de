using System.Text.Json;
using Grpc.Core;
using HaMaster.Chaos.Core.Processes;
using HaMaster.Client;
using HaMaster.Cluster.Tests.Infrastructure;
using HaMaster.Protos.V1;
using HaMaster.Testing;

namespace HaMaster.Cluster.Tests;

/// <summary>
/// Writes under a mount of a temporary directory (issue 18, docs/ufs-writes.md): CreateDirectory,
/// CreateFile, Delete and Rename reach the store; alluxio_only and write_through=false do not; a
/// read-only mount refuses; a crash between the store step and the journal entry (simulated by
/// doing the store step by hand) is repaired by the retry; exactly-once retries do not fail in the store.
/// </summary>
[Collection(SharedClusterCollection.Name)]
public sealed class MountWriteTests(SharedClusterFixture fixture) : IDisposable
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(60);
    private readonly string _store = Directory.CreateTempSubdirectory("hamaster-ufswrite-").FullName;
    private readonly string _mount = "/ufsw-" + Guid.NewGuid().ToString("N")[..8];

    private TestCluster Cluster => fixture.Cluster;

    public void Dispose()
    {
        Directory.Delete(_store, recursive: true);
    }

    private string Store(string relative) => Path.Join(_store, relative);

    private string At(string relative) => _mount + "/" + relative;

    [Fact]
    public async Task Writes_under_a_writable_mount_are_carried_out_in_the_store()
    {
        var client = Cluster.CreateClient();
        await client.MountAsync(_mount, "file://" + _store, new MountOptions());

        await client.CreateDirectoryAsync(At("d1/d2"), recursive: true);
        Assert.True(Directory.Exists(Store("d1/d2")));
        Assert.True((await client.GetStatusAsync(At("d1/d2"))).Persisted);

        // write_through=false: HaMaster's only, not persisted.
        await client.CreateDirectoryAsync(new CreateDirectoryRequest { Path = At("cache-only"), WriteThrough = false });
        Assert.False(Directory.Exists(Store("cache-only")));
        Assert.False((await client.GetStatusAsync(At("cache-only"))).Persisted);

        // CreateFile: the parents go to the store, the file is not persisted until reported.
        var created = await client.CreateFileAsync(At("new/f"), recursive: true);
        Assert.False(created.Persisted);
        Assert.True(Directory.Exists(Store("new")));
        Assert.False(File.Exists(Store("new/f")));
        Assert.True((await client.GetStatusAsync(At("new"))).Persisted);
        await client.GetNewBlockIdForFileAsync(At("new/f"));
        await client.CompleteFileAsync(At("new/f"), 5);
        var missing = await Expect.StatusAsync(StatusCode.FailedPrecondition, () => client.PersistFileAsync(At("new/f")).AsTask());
        Assert.Contains("write the file there", missing.Message);
        File.WriteAllText(Store("new/f"), "hello"); // the worker writes the data
        var persisted = await client.PersistFileAsync(At("new/f"));
        Assert.True(persisted.Persisted);
        Assert.StartsWith("f:5:", persisted.UfsFingerprint);
        await Expect.StatusAsync(StatusCode.FailedPrecondition, () => client.PersistFileAsync("/").AsTask());

        // Rename: in the store too; a file not persisted yet moves in the namespace only.
        await client.RenameAsync(At("d1"), At("renamed"));
        Assert.True(Directory.Exists(Store("renamed/d2")));
        Assert.False(Directory.Exists(Store("d1")));
        await client.CreateFileAsync(At("new/g"));
        await client.RenameAsync(At("new/g"), At("new/h"));
        Assert.False(File.Exists(Store("new/g")) || File.Exists(Store("new/h")));
        await client.RenameAsync(At("new/f"), At("new/f2"));
        Assert.Equal("hello", File.ReadAllText(Store("new/f2")));

        // Renames across the mount's edge are refused and change nothing.
        await client.CreateDirectoryAsync(_mount + "-outside");
        var across = await Expect.StatusAsync(StatusCode.FailedPrecondition, () => client.RenameAsync(At("renamed"), _mount + "-outside/x").AsTask());
        Assert.Contains("different mounts", across.Message);
        await Expect.StatusAsync(StatusCode.FailedPrecondition, () => client.RenameAsync(_mount + "-outside", At("in")).AsTask());
        Assert.True(Directory.Exists(Store("renamed")));

        // Delete: from the store too.
        Assert.Equal(2UL, await client.DeleteAsync(At("renamed"), recursive: true));
        Assert.False(Directory.Exists(Store("renamed")));

        // A store directory with content HaMaster has not loaded: the store refuses a non-recursive delete.
        Directory.CreateDirectory(Store("outside/inner"));
        Assert.Equal(0UL, (await client.GetStatusAsync(At("outside"))).ChildCount);
        await Expect.StatusAsync(StatusCode.FailedPrecondition, () => client.DeleteAsync(At("outside")).AsTask());
        Assert.True(Directory.Exists(Store("outside/inner")));
        Assert.True((await client.GetStatusAsync(At("outside"))).Persisted);

        // alluxio_only: the metadata goes, the store keeps the file (and a later load finds it again).
        File.WriteAllText(Store("keep.txt"), "kept");
        Assert.True((await client.GetStatusAsync(At("keep.txt"))).Persisted);
        Assert.Equal(1UL, (await client.DeleteAsync(new DeleteRequest { Path = At("keep.txt"), AlluxioOnly = true })).DeletedCount);
        Assert.Equal("kept", File.ReadAllText(Store("keep.txt")));
        await Expect.StatusAsync(StatusCode.NotFound, () => client.GetStatusAsync(new GetStatusRequest { Path = At("keep.txt"), LoadMetadata = LoadMetadataType.Never }).AsTask());
        Assert.Equal(4UL, (await client.GetStatusAsync(At("keep.txt"))).Length);

        await Cluster.AllDigestsEqualAsync(Wait);
        await client.UnmountAsync(_mount);
        await client.DeleteAsync(_mount + "-outside");
        Assert.True(File.Exists(Store("new/f2")));
    }

    [Fact]
    public async Task A_read_only_mount_refuses_writes_and_leaves_the_store_untouched()
    {
        var client = Cluster.CreateClient();
        File.WriteAllText(Store("a.txt"), "a");
        Directory.CreateDirectory(Store("dir"));
        await client.MountAsync(_mount, "file://" + _store, new MountOptions { ReadOnly = true });
        Assert.True((await client.GetStatusAsync(At("a.txt"))).Persisted);
        Assert.True((await client.GetStatusAsync(At("dir"))).Persisted);

        await Expect.StatusAsync(StatusCode.FailedPrecondition, () => client.CreateDirectoryAsync(At("dir/x")).AsTask());
        await Expect.StatusAsync(StatusCode.FailedPrecondition, () => client.CreateFileAsync(At("b.txt")).AsTask());
        await Expect.StatusAsync(StatusCode.FailedPrecondition, () => client.DeleteAsync(At("a.txt")).AsTask());
        await Expect.StatusAsync(StatusCode.FailedPrecondition, () => client.RenameAsync(At("a.txt"), At("c.txt")).AsTask());

        // alluxio_only leaves the store alone, so a read-only mount allows it (as Alluxio does).
        Assert.Equal(1UL, (await client.DeleteAsync(new DeleteRequest { Path = At("dir"), AlluxioOnly = true })).DeletedCount);

        // SetAttribute changes HaMaster's metadata only (the store has no such attributes): allowed.
        var changed = await client.SetAttributeAsync(new SetAttributeRequest { Path = At("a.txt"), Mode = Convert.ToUInt32("600", 8) });
        Assert.Equal(Convert.ToUInt32("600", 8), changed.Info.Mode);

        Assert.Equal(["a.txt", "dir"], Directory.EnumerateFileSystemEntries(_store).Select(Path.GetFileName).Order(StringComparer.Ordinal).ToList());
        Assert.Empty(Directory.EnumerateFileSystemEntries(Store("dir")));
        await client.UnmountAsync(_mount);
    }

    [Fact]
    public async Task A_crash_between_the_store_step_and_the_entry_is_repaired_by_the_retry()
    {
        var client = Cluster.CreateClient();
        await client.MountAsync(_mount, "file://" + _store, new MountOptions());

        // CreateDirectory: the store directory exists, the entry was never journaled.
        Directory.CreateDirectory(Store("made"));
        Assert.True((await client.CreateDirectoryAsync(At("made"))).Persisted);

        // Delete: the store delete was done, the entry was not.
        await client.CreateDirectoryAsync(At("gone"));
        Directory.Delete(Store("gone"));
        Assert.Equal(1UL, await client.DeleteAsync(At("gone")));
        await Expect.StatusAsync(StatusCode.NotFound, () => client.GetStatusAsync(new GetStatusRequest { Path = At("gone"), LoadMetadata = LoadMetadataType.Never }).AsTask());

        // Rename: the store rename was done, the entry was not.
        await client.CreateDirectoryAsync(At("src/child"), recursive: true);
        Directory.Move(Store("src"), Store("dst"));
        Assert.True((await client.RenameAsync(At("src"), At("dst"))).Persisted);
        Assert.True((await client.GetStatusAsync(new GetStatusRequest { Path = At("dst/child"), LoadMetadata = LoadMetadataType.Never })).Info.Persisted);

        // A destination the store already holds (and the source too) is refused; nothing is journaled.
        await client.CreateDirectoryAsync(At("one"));
        Directory.CreateDirectory(Store("two"));
        await Expect.StatusAsync(StatusCode.AlreadyExists, () => client.RenameAsync(At("one"), At("two")).AsTask());
        Assert.True(Directory.Exists(Store("one")));
        Assert.True((await client.GetStatusAsync(At("one"))).Persisted);

        await Cluster.AllDigestsEqualAsync(Wait);
        await client.UnmountAsync(_mount);
    }

    [Fact]
    public async Task Exactly_once_retries_under_a_mount_get_the_first_answer()
    {
        var client = Cluster.CreateClient();
        await client.MountAsync(_mount, "file://" + _store, new MountOptions());
        var leader = await Cluster.WaitForLeaderAsync();
        var fs = Cluster.Channel(leader).FileSystem;
        var id = Guid.NewGuid().ToString("N");
        ClientSession Session(ulong sequence) => new() { ClientId = id, Sequence = sequence };

        // The first attempt was applied but its answer lost: the retry neither fails in the store nor twice.
        var mkdir = new CreateDirectoryRequest { Path = At("once"), Session = Session(1) };
        var first = (await fs.CreateDirectoryAsync(mkdir)).Info;
        var again = (await fs.CreateDirectoryAsync(mkdir)).Info;
        Assert.Equal((first.Id, true), (again.Id, again.Persisted));

        var rename = new RenameRequest { SrcPath = At("once"), DstPath = At("twice"), Session = Session(2) };
        Assert.Equal(first.Id, (await fs.RenameAsync(rename)).Info.Id);
        Assert.Equal(first.Id, (await fs.RenameAsync(rename)).Info.Id);
        Assert.True(Directory.Exists(Store("twice")));

        var delete = new DeleteRequest { Path = At("twice"), Session = Session(3) };
        Assert.Equal(1UL, (await fs.DeleteAsync(delete)).DeletedCount);
        Assert.Equal(1UL, (await fs.DeleteAsync(delete)).DeletedCount);
        Assert.False(Directory.Exists(Store("twice")));

        await Cluster.AllDigestsEqualAsync(Wait);
        await client.UnmountAsync(_mount);
    }

    [Fact]
    public async Task Writes_under_an_s3_mount_reach_the_bucket()
    {
        await using var s3 = await S3rverProcess.StartAsync(Path.Combine(RepositoryLayout.RepositoryRoot, "tests", "HaMaster.Ufs.Tests", "interop"));
        var bucket = S3rverProcess.NewBucketName();
        await s3.CreateBucketAsync(bucket);
        var client = Cluster.CreateClient();
        var writable = new MountOptions { Shared = true };
        writable.Properties.Add(s3.Properties());
        await client.MountAsync(_mount, "s3://" + bucket, writable);

        await client.CreateDirectoryAsync(At("d1/d2"), recursive: true);
        Assert.False((await client.CreateFileAsync(At("new/f"), recursive: true)).Persisted);
        await client.RenameAsync(At("d1"), At("renamed"));
        await client.CreateDirectoryAsync(At("gone"));
        await client.DeleteAsync(At("gone"));

        // A second, read-only view of the same bucket lists what the store holds now.
        var view = new MountOptions { Shared = true, ReadOnly = true };
        view.Properties.Add(s3.Properties());
        await client.MountAsync(_mount + "-view", "s3://" + bucket, view);
        Assert.Equal(["new", "renamed"], await NamesAsync(client, _mount + "-view"));
        Assert.Equal(["d2"], await NamesAsync(client, _mount + "-view/renamed"));
        Assert.Empty(await NamesAsync(client, _mount + "-view/new")); // the file's data is the workers' to write

        await Cluster.AllDigestsEqualAsync(Wait);
        await client.UnmountAsync(_mount + "-view");
        await client.UnmountAsync(_mount);
    }

    private static async Task<List<string>> NamesAsync(HaMasterClient client, string path)
    {
        var names = new List<string>();
        await foreach (var entry in client.ListAllAsync(path, 0, Consistency.Linearizable, LoadMetadataType.Always)) names.Add(entry.Name);
        return names;
    }


}
