using Google.Protobuf;
using HaMaster.Cli;
using HaMaster.Journal;
using HaMaster.Protos.V1;

namespace HaMaster.Ops.Tests;

/// <summary>
/// `cluster backup`'s chunk handling without a cluster: a well-formed stream becomes a verified
/// archive; a stream that names a file outside the manifest, skips bytes or is empty is refused
/// and leaves no archive behind.
/// </summary>
public sealed class BackupDownloadTests : IDisposable
{
    private readonly string _directory = Directory.CreateTempSubdirectory("hamaster-download-").FullName;

    private static readonly byte[] First = [.. Enumerable.Range(0, 3000).Select(i => (byte)(i * 7))];
    private static readonly byte[] Second = "CURRENT-manifest"u8.ToArray();

    private static SnapshotManifest Manifest() => new(42, 7, new byte[] { 1, 2, 3 },
        [new SnapshotFileEntry("db/000001.sst", First.Length, Crc32C.Compute(First)), new SnapshotFileEntry("db/CURRENT", Second.Length, Crc32C.Compute(Second)), new SnapshotFileEntry("db/EMPTY", 0, Crc32C.Compute([]))],
        DateTimeOffset.UnixEpoch);

    private static BackupChunk ManifestChunk() => new() { Manifest = ByteString.CopyFrom(Manifest().ToBytes()) };

    private static BackupChunk Data(string name, long offset, ReadOnlySpan<byte> data) => new() { FileName = name, Offset = (ulong)offset, Data = ByteString.CopyFrom(data) };

    [Fact]
    public async Task Well_formed_stream_becomes_a_verified_archive()
    {
        var archive = Path.Combine(_directory, "good.backup");
        var manifest = await BackupDownload.SaveAsync(Stream(
            ManifestChunk(),
            Data("db/000001.sst", 0, First.AsSpan(0, 1000)),
            Data("db/000001.sst", 1000, First.AsSpan(1000)),
            Data("db/CURRENT", 0, Second)), archive, CancellationToken.None);

        Assert.Equal(42UL, manifest.Index);
        var extracted = Path.Combine(_directory, "extracted");
        using (var input = File.OpenRead(archive))
        {
            var read = BackupArchive.Read(input, extracted);
            Assert.Equal(3, read.Files.Count);
        }

        Assert.Equal(First, await File.ReadAllBytesAsync(Path.Combine(extracted, "db", "000001.sst")));
        Assert.Equal(Second, await File.ReadAllBytesAsync(Path.Combine(extracted, "db", "CURRENT")));
        Assert.Empty(await File.ReadAllBytesAsync(Path.Combine(extracted, "db", "EMPTY")));
    }

    [Fact]
    public async Task A_file_outside_the_manifest_is_refused()
    {
        var archive = Path.Combine(_directory, "rogue.backup");
        var error = await Assert.ThrowsAsync<InvalidDataException>(async () => await BackupDownload.SaveAsync(Stream(
            ManifestChunk(),
            Data("../escape", 0, Second)), archive, CancellationToken.None));
        Assert.Contains("not in the manifest", error.Message, StringComparison.Ordinal);
        Assert.False(File.Exists(archive));
        Assert.False(File.Exists(archive + ".partial"));
    }

    [Fact]
    public async Task A_gap_in_a_file_is_refused()
    {
        var archive = Path.Combine(_directory, "gap.backup");
        var error = await Assert.ThrowsAsync<InvalidDataException>(async () => await BackupDownload.SaveAsync(Stream(
            ManifestChunk(),
            Data("db/000001.sst", 0, First.AsSpan(0, 1000)),
            Data("db/000001.sst", 2000, First.AsSpan(2000))), archive, CancellationToken.None));
        Assert.Contains("expected 1000", error.Message, StringComparison.Ordinal);
        Assert.False(File.Exists(archive));
    }

    [Fact]
    public async Task A_truncated_stream_is_refused_by_the_verification()
    {
        var archive = Path.Combine(_directory, "short.backup");
        await Assert.ThrowsAsync<SnapshotIntegrityException>(async () => await BackupDownload.SaveAsync(Stream(
            ManifestChunk(),
            Data("db/000001.sst", 0, First.AsSpan(0, 1000)),
            Data("db/CURRENT", 0, Second)), archive, CancellationToken.None));
        Assert.False(File.Exists(archive));
    }

    [Fact]
    public async Task A_stream_without_manifest_is_refused()
    {
        var archive = Path.Combine(_directory, "none.backup");
        await Assert.ThrowsAsync<InvalidDataException>(async () => await BackupDownload.SaveAsync(Stream(), archive, CancellationToken.None));
        await Assert.ThrowsAsync<InvalidDataException>(async () => await BackupDownload.SaveAsync(Stream(Data("db/CURRENT", 0, Second)), archive, CancellationToken.None));
        Assert.False(File.Exists(archive));
    }

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    private static async IAsyncEnumerable<BackupChunk> Stream(params BackupChunk[] chunks)
    {
        foreach (var chunk in chunks)
        {
            await Task.Yield();
            yield return chunk;
        }
    }
}
