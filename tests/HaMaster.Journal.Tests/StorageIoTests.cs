namespace HaMaster.Journal.Tests;

/// <summary>The journal's libc calls (Tmds.LibC): fdatasync of a file, fsync of a directory, and their errors.</summary>
public sealed class StorageIoTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("hamaster-storageio-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public void A_file_and_its_directory_are_synced()
    {
        var io = new StorageIo(null);
        var path = Path.Combine(_dir, "segment");
        using (var handle = io.Create(path, 0))
        {
            io.Write(handle, path, [1, 2, 3], 0);
            io.SyncData(handle, path);
        }

        io.SyncDirectory(_dir);
        Assert.Equal(2, io.SyncCount);
        Assert.Equal(new byte[] { 1, 2, 3 }, File.ReadAllBytes(path));
    }

    [Fact]
    public void Syncing_a_missing_directory_fails_naming_it_and_the_error()
    {
        var missing = Path.Combine(_dir, "no-such-directory");
        var e = Assert.Throws<IOException>(() => new StorageIo(null).SyncDirectory(missing));
        Assert.Contains(missing, e.Message, StringComparison.Ordinal);
        Assert.Contains("errno 2", e.Message, StringComparison.Ordinal); // ENOENT, read through LibC.errno
    }
}
