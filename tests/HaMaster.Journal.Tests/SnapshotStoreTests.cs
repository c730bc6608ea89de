using System.Text;
using HaMaster.Chaos.Core.Files;

namespace HaMaster.Journal.Tests;

public class SnapshotStoreTests
{
    private static readonly byte[] Config = Encoding.UTF8.GetBytes("voters=1,2,3");

    private static SnapshotManifest MakeSnapshot(SnapshotStore store, ulong index, ulong term, int seed = 1)
    {
        using var writer = store.BeginSnapshot(index, term, Config);
        Assert.False(Directory.Exists(writer.Directory), "a RocksDB checkpoint needs a directory that does not exist yet");
        Directory.CreateDirectory(Path.Combine(writer.Directory, "sub"));
        var random = new Random(seed);
        var big = new byte[2_500_000];
        random.NextBytes(big);
        File.WriteAllBytes(Path.Combine(writer.Directory, "000012.sst"), big);
        File.WriteAllText(Path.Combine(writer.Directory, "CURRENT"), "MANIFEST-000005\n");
        File.WriteAllBytes(Path.Combine(writer.Directory, "sub", "empty"), []);
        return writer.Commit();
    }

    private static void AssertSameFiles(string expectedDir, string actualDir)
    {
        var expected = Directory.GetFiles(expectedDir, "*", SearchOption.AllDirectories).Select(f => Path.GetRelativePath(expectedDir, f)).Order().ToList();
        var actual = Directory.GetFiles(actualDir, "*", SearchOption.AllDirectories).Select(f => Path.GetRelativePath(actualDir, f)).Order().ToList();
        Assert.Equal(expected, actual);
        foreach (var name in expected)
        {
            Assert.True(File.ReadAllBytes(Path.Combine(expectedDir, name)).AsSpan().SequenceEqual(File.ReadAllBytes(Path.Combine(actualDir, name))), name);
        }
    }

    [Fact]
    public void Commit_checksums_files_and_publishes_atomically()
    {
        using var dir = new TempDirectory();
        var store = new SnapshotStore(dir.Path);
        Assert.Null(store.Latest);
        var manifest = MakeSnapshot(store, 100, 3);
        Assert.Equal(100UL, manifest.Index);
        Assert.Equal(3UL, manifest.Term);
        Assert.Equal(Config, manifest.Config.ToArray());
        Assert.Equal(["000012.sst", "CURRENT", "sub/empty"], manifest.Files.Select(f => f.Name));
        var sst = manifest.Files[0];
        Assert.Equal(2_500_000, sst.Length);
        Assert.Equal(Crc32C.Compute(File.ReadAllBytes(Path.Combine(store.PathOf(manifest), "000012.sst"))), sst.Crc32C);
        var latest = store.Latest!;
        Assert.True(latest.SameContentAs(manifest));
        Assert.Empty(Directory.GetDirectories(dir.Path, "tmp-*"));
        // The manifest round-trips.
        Assert.True(SnapshotManifest.FromBytes(manifest.ToBytes()).SameContentAs(manifest));
    }

    [System.Runtime.InteropServices.DllImport("libc", EntryPoint = "link", SetLastError = true)]
    private static extern int HardLink(string existing, string newPath);

    [Fact]
    public void A_hard_linked_sst_keeps_its_checksum_and_a_rewritten_one_is_checksummed_anew()
    {
        using var dir = new TempDirectory();
        var store = new SnapshotStore(dir.Path);
        var first = MakeSnapshot(store, 100, 3);
        var firstSst = Path.Combine(store.PathOf(first), "000012.sst");

        // Like a RocksDB checkpoint: the unchanged SST is a hard link to the previous snapshot's file.
        SnapshotManifest second;
        using (var writer = store.BeginSnapshot(200, 3, Config))
        {
            Directory.CreateDirectory(writer.Directory);
            Assert.Equal(0, HardLink(firstSst, Path.Combine(writer.Directory, "000012.sst")));
            var fresh = new byte[1000];
            new Random(7).NextBytes(fresh);
            File.WriteAllBytes(Path.Combine(writer.Directory, "000013.sst"), fresh);
            File.WriteAllText(Path.Combine(writer.Directory, "CURRENT"), "MANIFEST-000006\n");
            second = writer.Commit();
        }

        Assert.Equal(first.Files.Single(f => f.Name == "000012.sst"), second.Files.Single(f => f.Name == "000012.sst"));
        Assert.Equal(Crc32C.Compute(File.ReadAllBytes(Path.Combine(store.PathOf(second), "000013.sst"))), second.Files.Single(f => f.Name == "000013.sst").Crc32C);

        // Same name and length but different content (a different file, so a different write time): never reused.
        SnapshotManifest third;
        using (var writer = store.BeginSnapshot(300, 3, Config))
        {
            Directory.CreateDirectory(writer.Directory);
            var other = File.ReadAllBytes(firstSst);
            other[0] ^= 0xFF;
            var path = Path.Combine(writer.Directory, "000012.sst");
            File.WriteAllBytes(path, other);
            File.SetLastWriteTimeUtc(path, File.GetLastWriteTimeUtc(firstSst).AddSeconds(1));
            third = writer.Commit();
        }

        var rewritten = third.Files.Single(f => f.Name == "000012.sst");
        Assert.Equal(Crc32C.Compute(File.ReadAllBytes(Path.Combine(store.PathOf(third), "000012.sst"))), rewritten.Crc32C);
        Assert.NotEqual(first.Files.Single(f => f.Name == "000012.sst").Crc32C, rewritten.Crc32C);
    }

    [Fact]
    public void Abort_and_a_crash_before_rename_leave_no_snapshot()
    {
        using var dir = new TempDirectory();
        var store = new SnapshotStore(dir.Path);
        using (var writer = store.BeginSnapshot(5, 1, Config))
        {
            Directory.CreateDirectory(writer.Directory);
            File.WriteAllText(Path.Combine(writer.Directory, "x"), "x");
            writer.Abort();
        }
        Assert.Empty(Directory.GetDirectories(dir.Path));

        var faults = new StorageFaultInjector { RenameError = new SimulatedCrashException("crash before rename") };
        var crashing = new SnapshotStore(dir.Path, keepNewest: 2, faults: faults);
        var writer2 = crashing.BeginSnapshot(6, 1, Config);
        Directory.CreateDirectory(writer2.Directory);
        File.WriteAllText(Path.Combine(writer2.Directory, "x"), "x");
        Assert.Throws<SimulatedCrashException>(() => writer2.Commit());
        var reopened = new SnapshotStore(dir.Path);
        Assert.Empty(reopened.List());
        reopened.CollectGarbage();
        Assert.Empty(Directory.GetDirectories(dir.Path));
    }

    [Fact]
    public void Garbage_collection_keeps_the_newest_n()
    {
        using var dir = new TempDirectory();
        var store = new SnapshotStore(dir.Path, keepNewest: 2);
        MakeSnapshot(store, 10, 1);
        MakeSnapshot(store, 30, 2);
        MakeSnapshot(store, 20, 1);
        var abandoned = store.BeginSnapshot(40, 2, Config); // in progress: must survive GC
        Directory.CreateDirectory(Path.Combine(dir.Path, "tmp-00000000000000000001-00000000000000000001-dead")); // left by a crash
        Assert.Equal([10UL, 20UL, 30UL], store.List().Select(m => m.Index));
        Assert.Equal(2, store.CollectGarbage());
        Assert.Equal([20UL, 30UL], store.List().Select(m => m.Index));
        Assert.Equal(30UL, store.Latest!.Index);
        Assert.True(Directory.Exists(abandoned.TempDirectory));
        abandoned.Abort();
    }

    [Fact]
    public async Task Streams_to_a_receiver_which_verifies_and_commits()
    {
        using var dir = new TempDirectory();
        var source = new SnapshotStore(dir.Sub("leader"));
        var target = new SnapshotStore(dir.Sub("follower"));
        var manifest = MakeSnapshot(source, 100, 3);
        var header = SnapshotManifest.FromBytes(manifest.ToBytes()); // as sent over the wire
        using var reader = source.OpenForStreaming(manifest, chunkBytes: 300_000);
        var receiver = target.BeginReceive(header);
        Assert.False(receiver.Resumed);
        var chunks = 0;
        SnapshotChunk? last = null;
        while (await reader.ReadNextAsync() is { } chunk)
        {
            receiver.WriteChunk(chunk);
            receiver.WriteChunk(chunk); // a resend is harmless
            chunks++;
            last = chunk;
        }
        Assert.True(last!.Value.LastInSnapshot);
        Assert.Equal(9 + 1 + 1, chunks); // 2.5 MB in 300 KB chunks, CURRENT, the empty file
        Assert.True(receiver.IsComplete);
        var committed = receiver.Commit();
        Assert.True(committed.SameContentAs(manifest));
        AssertSameFiles(source.PathOf(manifest), target.PathOfStaged(target.ListStaged().Single()));
    }

    [Fact]
    public async Task A_corrupted_chunk_is_rejected_and_a_resend_succeeds()
    {
        using var dir = new TempDirectory();
        var source = new SnapshotStore(dir.Sub("leader"));
        var target = new SnapshotStore(dir.Sub("follower"));
        var manifest = MakeSnapshot(source, 7, 1);
        using var reader = source.OpenForStreaming(manifest, 1 << 20);
        using var receiver = target.BeginReceive(manifest);
        var first = (await reader.ReadNextAsync())!.Value;
        var damaged = first.Data.ToArray();
        damaged[12345] ^= 0x40;
        var e = Assert.Throws<SnapshotIntegrityException>(() => receiver.WriteChunk(first with { Data = damaged }));
        Assert.Contains("failed its checksum", e.Message);
        Assert.Equal(0, receiver.ReceivedBytes);
        receiver.WriteChunk(first);
        var second = (await reader.ReadNextAsync())!.Value;
        var skipped = (await reader.ReadNextAsync())!.Value;
        Assert.Throws<InvalidOperationException>(() => receiver.WriteChunk(skipped)); // a gap
        receiver.WriteChunk(second);
        receiver.WriteChunk(skipped);
        while (await reader.ReadNextAsync() is { } chunk)
        {
            receiver.WriteChunk(chunk);
        }
        receiver.Commit();
        Assert.Single(target.ListStaged());
        Assert.Null(target.Latest); // staged: published only when the Raft host installs it
    }

    [Fact]
    public async Task A_file_damaged_at_rest_fails_verification_at_commit()
    {
        using var dir = new TempDirectory();
        var source = new SnapshotStore(dir.Sub("leader"));
        var target = new SnapshotStore(dir.Sub("follower"));
        var manifest = MakeSnapshot(source, 7, 1);
        using var reader = source.OpenForStreaming(manifest);
        var receiver = target.BeginReceive(manifest);
        while (await reader.ReadNextAsync() is { } chunk)
        {
            receiver.WriteChunk(chunk);
        }
        var received = Directory.GetFiles(dir.Sub("follower"), "000012.sst", SearchOption.AllDirectories).Single();
        using (var stream = new FileStream(received, FileMode.Open))
        {
            stream.Position = 1000;
            stream.WriteByte(0x5A);
            stream.WriteByte(0xA5);
        }
        var e = Assert.Throws<SnapshotIntegrityException>(() => receiver.Commit());
        Assert.Contains("000012.sst", e.Message);
        Assert.Empty(target.List());
        Assert.Empty(target.ListStaged());
        // Only that file is resent.
        Assert.Equal("000012.sst", receiver.ResumeFile);
        Assert.Equal(0, receiver.ResumeOffset);
        reader.Seek(receiver.ResumeFile!, receiver.ResumeOffset);
        var chunk2 = (await reader.ReadNextAsync())!.Value;
        receiver.WriteChunk(chunk2);
        while (!receiver.IsComplete && await reader.ReadNextAsync() is { } more)
        {
            receiver.WriteChunk(more);
        }
        receiver.Commit();
        AssertSameFiles(source.PathOf(manifest), target.PathOfStaged(target.ListStaged().Single()));
    }

    [Fact]
    public async Task An_interrupted_receive_resumes_where_it_stopped()
    {
        using var dir = new TempDirectory();
        var source = new SnapshotStore(dir.Sub("leader"));
        var manifest = MakeSnapshot(source, 50, 2);
        var targetPath = dir.Sub("follower");
        using (var reader = source.OpenForStreaming(manifest, 500_000))
        using (var receiver = new SnapshotStore(targetPath).BeginReceive(manifest))
        {
            for (var i = 0; i < 3; i++)
            {
                receiver.WriteChunk((await reader.ReadNextAsync())!.Value);
            }
        } // the follower restarts here
        var target = new SnapshotStore(targetPath);
        using (var reader = source.OpenForStreaming(manifest, 500_000))
        {
            var resumed = target.BeginReceive(manifest);
            Assert.True(resumed.Resumed);
            Assert.Equal("000012.sst", resumed.ResumeFile);
            Assert.Equal(1_500_000, resumed.ResumeOffset);
            reader.Seek(resumed.ResumeFile!, resumed.ResumeOffset);
            var sent = 0;
            while (await reader.ReadNextAsync() is { } chunk)
            {
                resumed.WriteChunk(chunk);
                sent++;
            }
            Assert.Equal(2 + 2, sent);
            resumed.Commit();
        }
        AssertSameFiles(source.PathOf(manifest), target.PathOfStaged(target.ListStaged().Single()));
        Assert.Empty(Directory.GetDirectories(targetPath, "recv-*"));

        // A different snapshot at the same place is not mistaken for a resume.
        var other = MakeSnapshot(source, 60, 2, seed: 9);
        using var fresh = target.BeginReceive(other);
        Assert.False(fresh.Resumed);
    }
}

public class SnapshotStoreFaultTests
{
    [Fact]
    public async Task Disk_full_while_receiving_fails_clearly_and_the_transfer_resumes_later()
    {
        using var dir = new TempDirectory();
        var source = new SnapshotStore(dir.Sub("leader"));
        using (var writer = source.BeginSnapshot(9, 1, new byte[] { 1 }))
        {
            Directory.CreateDirectory(writer.Directory);
            File.WriteAllBytes(Path.Combine(writer.Directory, "a.sst"), Enumerable.Range(0, 300_000).Select(i => (byte)i).ToArray());
            writer.Commit();
        }
        var manifest = source.Latest!;
        var faults = new StorageFaultInjector();
        var target = new SnapshotStore(dir.Sub("follower"), keepNewest: 2, faults: faults);
        using (var reader = source.OpenForStreaming(manifest, 100_000))
        using (var receiver = target.BeginReceive(manifest))
        {
            Assert.Throws<InvalidOperationException>(() => target.BeginReceive(manifest)); // one receiver at a time
            receiver.WriteChunk((await reader.ReadNextAsync())!.Value);
            faults.WriteError = StorageFaultInjector.DiskFull();
            var second = (await reader.ReadNextAsync())!.Value;
            var e = Assert.Throws<IOException>(() => receiver.WriteChunk(second));
            Assert.Contains("No space left", e.Message);
            Assert.Equal(100_000, receiver.ReceivedBytes);
        }
        faults.WriteError = null;
        using (var reader = source.OpenForStreaming(manifest, 100_000))
        {
            var receiver = target.BeginReceive(manifest);
            Assert.True(receiver.Resumed);
            reader.Seek(receiver.ResumeFile!, receiver.ResumeOffset);
            while (await reader.ReadNextAsync() is { } chunk)
            {
                receiver.WriteChunk(chunk);
            }
            receiver.Commit();
        }
        Assert.Equal(9UL, target.ListStaged().Single().Index);
    }
}
