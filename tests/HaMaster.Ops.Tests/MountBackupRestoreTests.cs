using HaMaster.Chaos.Core.Processes;
using HaMaster.Ops.Tests.Infrastructure;
using HaMaster.Protos.V1;

namespace HaMaster.Ops.Tests;

/// <summary>
/// Issue 18: a backup carries the mount table and the metadata loaded from a mounted store; a
/// NEW cluster restored from it holds both on every master without reading the store, and keeps
/// serving the mount (sync sees an outside change, writes go through to the store).
/// </summary>
public sealed class MountBackupRestoreTests
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(60);

    [Fact]
    public async Task A_restored_cluster_holds_the_mount_table_and_loaded_metadata_and_serves_the_mount()
    {
        var work = Directory.CreateTempSubdirectory("hamaster-mount-backup-").FullName;
        try
        {
            var store = Path.Combine(work, "store");
            Directory.CreateDirectory(Path.Combine(store, "big"));
            for (var i = 0; i < 200; i++) File.WriteAllText(Path.Combine(store, "big", $"f{i:D3}"), "x");
            var archive = Path.Combine(work, "cluster.backup");
            List<string> loaded;
            await using (var source = await OpsCluster.StartAsync())
            {
                var client = source.CreateClient();
                await client.CreateDirectoryAsync("/data");
                await client.MountAsync("/data/store", "file://" + store, new MountOptions { Shared = true });
                loaded = await NamesAsync(client, "/data/store/big", LoadMetadataType.Once);
                Assert.Equal(200, loaded.Count);
                await client.CreateDirectoryAsync("/data/store/made");
                Assert.True(Directory.Exists(Path.Combine(store, "made")), "a write under the mount went through to the store");

                var backup = await CliRunner.RunAsync("cluster", "backup", archive, "--masters", string.Join(",", source.Masters.Select(m => m.ClientAddress)));
                Assert.True(backup.ExitCode == 0, $"backup failed: {backup}{Environment.NewLine}{source.Diagnostics()}");
            }

            // The source cluster is gone; the store is not. Something writes to it in the meantime.
            File.WriteAllText(Path.Combine(store, "big", "late"), "y");

            await using var restored = OpsCluster.Create();
            await restored.StartAllAsync(["--restore-from", archive]);
            var reader = restored.CreateClient();
            var mount = Assert.Single(await reader.GetMountTableAsync());
            Assert.Equal(("/data/store", "file://" + store, true, false), (mount.Path, mount.UfsUri, mount.Shared, mount.ReadOnly));

            // Every restored master holds the loaded metadata itself (a local read that must not load from the store).
            foreach (var master in restored.Masters)
            {
                var fs = restored.Channel(master.ClientAddress).FileSystem;
                await Eventually.TrueAsync($"master {master.Id}'s local copy of the loaded directory", async () =>
                {
                    var page = await fs.ListStatusAsync(new ListStatusRequest { Path = "/data/store/big", Consistency = Consistency.Stale, LoadMetadata = LoadMetadataType.Never, Limit = 1000 });
                    return page.Entries.Select(e => e.Name).SequenceEqual(loaded);
                }, Wait, restored.Diagnostics);
                var made = await fs.GetStatusAsync(new GetStatusRequest { Path = "/data/store/made", Consistency = Consistency.Stale, LoadMetadata = LoadMetadataType.Never });
                Assert.True(made.Info.Persisted, "the written-through directory is persisted after restore");
            }

            await restored.AllDigestsEqualAsync(Wait);

            // The restored cluster serves the mount: the outside change is seen once synced; writes go through.
            var synced = await reader.SyncMetadataAsync("/data/store/big");
            Assert.Equal(1UL, synced.Created);
            Assert.Contains("late", await NamesAsync(reader, "/data/store/big", LoadMetadataType.Never));
            await reader.CreateDirectoryAsync("/data/store/after-restore");
            Assert.True(Directory.Exists(Path.Combine(store, "after-restore")));
            await restored.AllDigestsEqualAsync(Wait);
        }
        finally
        {
            Directory.Delete(work, recursive: true);
        }
    }

    private static async Task<List<string>> NamesAsync(HaMaster.Client.HaMasterClient client, string path, LoadMetadataType load)
    {
        var names = new List<string>();
        await foreach (var entry in client.ListAllAsync(path, 100, Consistency.Linearizable, load)) names.Add(entry.Name);
        return names;
    }
}
