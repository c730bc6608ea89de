using System.Collections.Concurrent;
using System.Formats.Tar;
using HaMaster.Journal;
using HaMaster.Ops.Tests.Infrastructure;

namespace HaMaster.Ops.Tests;

/// <summary>
/// Issue 9, backup and restore end to end: `hamaster cluster backup` against a 3-master cluster
/// while a writer keeps writing (no write may fail), then a NEW 3-master cluster started with
/// --restore-from holds every file acknowledged before the backup started; a damaged archive is
/// refused by both `cluster restore --verify-only` and the server.
/// </summary>
public sealed class BackupRestoreTests
{
    private static readonly TimeSpan WriterBound = TimeSpan.FromSeconds(60);

    [Fact]
    public async Task Backup_under_writes_restores_into_a_new_cluster_and_a_damaged_archive_is_refused()
    {
        var work = Directory.CreateTempSubdirectory("hamaster-backup-test-").FullName;
        try
        {
            var archive = Path.Combine(work, "cluster.backup");
            HashSet<string> acknowledgedBefore;
            await using (var source = await OpsCluster.StartAsync())
            {
                var client = source.CreateClient();
                await client.CreateDirectoryAsync("/pre");
                for (var i = 0; i < 40; i++)
                {
                    await client.CreateFileAsync($"/pre/f{i:D3}");
                }

                // A writer that keeps creating files until told to stop; every failure is recorded.
                var acknowledged = new ConcurrentQueue<string>();
                var failures = new ConcurrentQueue<string>();
                using var stopWriter = new CancellationTokenSource(WriterBound);
                var writerClient = source.CreateClient();
                await writerClient.CreateDirectoryAsync("/during");
                var firstWrites = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
                var writer = Task.Run(async () =>
                {
                    for (var i = 0; i < 100_000 && !stopWriter.IsCancellationRequested; i++)
                    {
                        var path = $"/during/w{i:D5}";
                        try
                        {
                            await writerClient.CreateFileAsync(path);
                            acknowledged.Enqueue(path);
                            if (acknowledged.Count >= 10)
                            {
                                firstWrites.TrySetResult();
                            }
                        }
                        catch (Exception e) when (e is not OperationCanceledException)
                        {
                            failures.Enqueue($"{path}: {e.Message}");
                            firstWrites.TrySetResult();
                        }
                    }
                });

                await firstWrites.Task.WaitAsync(TimeSpan.FromSeconds(30));
                acknowledgedBefore = [.. Enumerable.Range(0, 40).Select(i => $"/pre/f{i:D3}"), .. acknowledged];
                var ackBeforeBackup = acknowledged.Count;

                var backup = await CliRunner.RunAsync("cluster", "backup", archive, "--masters", string.Join(",", source.Masters.Select(m => m.ClientAddress)));
                var ackAfterBackup = acknowledged.Count;
                await stopWriter.CancelAsync();
                await writer.WaitAsync(TimeSpan.FromSeconds(30));

                Assert.True(backup.ExitCode == 0, $"backup failed: {backup}{Environment.NewLine}{source.Diagnostics()}");
                Assert.Matches(@"snapshot index \d+, term \d+, \d+ files, \d+ bytes", backup.Out);
                Assert.True(failures.IsEmpty, $"writes failed during the backup: {string.Join("; ", failures.Take(5))}");
                Assert.True(ackAfterBackup > ackBeforeBackup || acknowledged.Count > ackBeforeBackup, "the writer made no progress while the backup ran");
            }

            var verify = await CliRunner.RunAsync("cluster", "restore", archive, "--verify-only");
            Assert.True(verify.ExitCode == 0, verify.ToString());
            Assert.Contains("valid backup of snapshot index", verify.Out, StringComparison.Ordinal);

            var guidance = await CliRunner.RunAsync("cluster", "restore", archive, "--data-dir", Path.Combine(work, "new"), "--members", "1=127.0.0.1:1/127.0.0.1:2,2=127.0.0.1:3/127.0.0.1:4");
            Assert.True(guidance.ExitCode == 0, guidance.ToString());
            Assert.Contains("--restore-from " + Path.GetFullPath(archive), guidance.Out, StringComparison.Ordinal);
            Assert.Contains("--id 2 ", guidance.Out, StringComparison.Ordinal);

            // A flipped byte inside a snapshot file is caught by its CRC-32C.
            var damaged = Path.Combine(work, "damaged.backup");
            File.Copy(archive, damaged);
            FlipByteInLargestDataFile(damaged);
            var refused = await CliRunner.RunAsync("cluster", "restore", damaged, "--verify-only");
            Assert.Equal(5, refused.ExitCode);
            Assert.Contains("damaged", refused.Err, StringComparison.Ordinal);
            Assert.Contains("CRC-32C", refused.Err, StringComparison.Ordinal);

            await using (var rejecting = OpsCluster.Create(new OpsClusterOptions { Size = 1 }))
            {
                var master = rejecting.Master(1);
                await master.StartAsync(rejecting.BootstrapArguments(master, ["--restore-from", damaged]), TimeSpan.FromSeconds(40), waitReady: false);
                var exit = await master.WaitForExitAsync(TimeSpan.FromSeconds(40));
                var output = master.RecentOutput(60);
                Assert.True(exit != 0, $"the server accepted a damaged archive:{Environment.NewLine}{output}");
                Assert.Contains("damaged", output, StringComparison.Ordinal);
            }

            // A NEW cluster (new ports, empty data) restored from the good archive.
            await using var restored = OpsCluster.Create();
            await restored.StartAllAsync(["--restore-from", archive]);
            var reader = restored.CreateClient();
            var present = new HashSet<string>(StringComparer.Ordinal);
            foreach (var directory in new[] { "/pre", "/during" })
            {
                await foreach (var entry in reader.ListAllAsync(directory))
                {
                    present.Add($"{directory}/{entry.Name}");
                }
            }

            var missing = acknowledgedBefore.Where(p => !present.Contains(p)).ToList();
            Assert.True(missing.Count == 0, $"{missing.Count} of {acknowledgedBefore.Count} files acknowledged before the backup are missing after restore, e.g. {string.Join(", ", missing.Take(5))}");

            // The restored cluster is a working cluster, not a read-only copy.
            await reader.CreateFileAsync("/after-restore");
            Assert.Equal("/after-restore", (await reader.GetStatusAsync("/after-restore")).Path);
        }
        finally
        {
            Directory.Delete(work, recursive: true);
        }
    }

    private static void FlipByteInLargestDataFile(string archive)
    {
        long offset = -1;
        long length = 0;
        using (var stream = File.OpenRead(archive))
        using (var tar = new TarReader(stream))
        {
            while (tar.GetNextEntry() is { } entry)
            {
                if (entry.Name.StartsWith(BackupArchive.DataPrefix, StringComparison.Ordinal) && entry.Length > length)
                {
                    length = entry.Length;
                    offset = entry.DataOffset;
                }
            }
        }

        Assert.True(offset > 0 && length > 0, "the archive has no non-empty data file to damage");
        using var file = new FileStream(archive, FileMode.Open, FileAccess.ReadWrite);
        file.Position = offset + (length / 2);
        var value = file.ReadByte();
        file.Position = offset + (length / 2);
        file.WriteByte((byte)(value ^ 0x5A));
    }
}
