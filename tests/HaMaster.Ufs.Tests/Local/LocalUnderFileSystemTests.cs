using HaMaster.Ufs.Local;

namespace HaMaster.Ufs.Tests.Local;

public sealed class LocalUnderFileSystemTests : IDisposable
{
    private static readonly Dictionary<string, string> NoOptions = [];
    private readonly string _dir = Directory.CreateTempSubdirectory("hamaster-ufs-").FullName;
    private readonly IUnderFileSystem _ufs;

    public LocalUnderFileSystemTests()
    {
        Directory.CreateDirectory(Path.Join(_dir, "root"));
        _ufs = new LocalUnderFileSystemFactory().Create(new Uri("file://" + Path.Join(_dir, "root")), NoOptions);
    }

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private string Local(string relative) => Path.Join(_dir, "root", relative);

    [Fact]
    public async Task StatusOfFileDirectoryRootAndMissing()
    {
        await File.WriteAllTextAsync(Local("a.txt"), "hello");
        Directory.CreateDirectory(Local("d"));
        var file = await _ufs.GetStatusAsync("a.txt", default);
        Assert.NotNull(file);
        Assert.Equal(("a.txt", false, 5L), (file.Name, file.IsDirectory, file.Length));
        Assert.StartsWith("f:5:", file.Fingerprint);
        var dir = await _ufs.GetStatusAsync("d", default);
        Assert.Equal(("d", true, "d"), (dir!.Name, dir.IsDirectory, dir.Fingerprint));
        Assert.True((await _ufs.GetStatusAsync("", default))!.IsDirectory);
        Assert.Null(await _ufs.GetStatusAsync("missing", default));
        Assert.Null(await _ufs.GetStatusAsync("d/missing/deeper", default));
    }

    [Fact]
    public async Task FingerprintChangesWhenContentIsRewritten()
    {
        await File.WriteAllTextAsync(Local("f"), "12345");
        var before = (await _ufs.GetStatusAsync("f", default))!.Fingerprint;
        File.SetLastWriteTimeUtc(Local("f"), DateTime.UtcNow.AddSeconds(-100));
        await File.WriteAllTextAsync(Local("f"), "54321");
        File.SetLastWriteTimeUtc(Local("f"), DateTime.UtcNow.AddSeconds(5));
        Assert.NotEqual(before, (await _ufs.GetStatusAsync("f", default))!.Fingerprint);
    }

    [Fact]
    public async Task ListPagesInUtf8OrderWithContinuationTokens()
    {
        // "\uE000" sorts before "\U0001F600" in UTF-16 order but after it in UTF-8 byte order.
        string[] names = ["b", "a", "B", "c10", "c2", "\uE000", "\U0001F600", "z"];
        foreach (var name in names) await File.WriteAllTextAsync(Local(name), "");
        Directory.CreateDirectory(Local("dir"));
        var seen = new List<UfsStatus>();
        string? token = null;
        var pages = 0;
        do
        {
            var page = await _ufs.ListAsync("", token, 3, default);
            Assert.True(page.Entries.Count <= 3);
            seen.AddRange(page.Entries);
            token = page.ContinuationToken;
            Assert.True(++pages <= 10);
        }
        while (token is not null);

        var expected = names.Append("dir").OrderBy(n => System.Text.Encoding.UTF8.GetBytes(n), Comparer<byte[]>.Create((x, y) => x.AsSpan().SequenceCompareTo(y))).ToList();
        Assert.Equal(expected, seen.Select(s => s.Name).ToList());
        Assert.True(seen.Single(s => s.Name == "dir").IsDirectory);
    }

    [Fact]
    public async Task ListOfMissingDirectoryIsNotFoundAndOfFileIsFailedPrecondition()
    {
        await File.WriteAllTextAsync(Local("f"), "");
        Assert.Equal(UfsErrorKind.NotFound, (await Assert.ThrowsAsync<UfsException>(() => _ufs.ListAsync("nope", null, 10, default).AsTask())).Kind);
        Assert.Equal(UfsErrorKind.FailedPrecondition, (await Assert.ThrowsAsync<UfsException>(() => _ufs.ListAsync("f", null, 10, default).AsTask())).Kind);
    }

    [Fact]
    public async Task MkdirsCreateDeleteAndRename()
    {
        await _ufs.MkdirsAsync("x/y/z", default);
        await _ufs.MkdirsAsync("x/y/z", default);
        Assert.True(Directory.Exists(Local("x/y/z")));
        await _ufs.CreateEmptyFileAsync("x/y/f", default);
        Assert.Equal(0, new FileInfo(Local("x/y/f")).Length);
        Assert.Equal(UfsErrorKind.AlreadyExists, (await Assert.ThrowsAsync<UfsException>(() => _ufs.CreateEmptyFileAsync("x/y/f", default).AsTask())).Kind);
        Assert.Equal(UfsErrorKind.NotFound, (await Assert.ThrowsAsync<UfsException>(() => _ufs.CreateEmptyFileAsync("no/f", default).AsTask())).Kind);

        await _ufs.RenameAsync("x/y/f", "x/g", default);
        Assert.True(File.Exists(Local("x/g")));
        Assert.Equal(UfsErrorKind.AlreadyExists, (await Assert.ThrowsAsync<UfsException>(() => _ufs.RenameAsync("x/y", "x/g", default).AsTask())).Kind);
        Assert.Equal(UfsErrorKind.NotFound, (await Assert.ThrowsAsync<UfsException>(() => _ufs.RenameAsync("x/none", "x/h", default).AsTask())).Kind);
        Assert.Equal(UfsErrorKind.InvalidArgument, (await Assert.ThrowsAsync<UfsException>(() => _ufs.RenameAsync("x", "x/y/in", default).AsTask())).Kind);

        Assert.Equal(UfsErrorKind.FailedPrecondition, (await Assert.ThrowsAsync<UfsException>(() => _ufs.DeleteAsync("x", recursive: false, default).AsTask())).Kind);
        Assert.True(await _ufs.DeleteAsync("x/g", recursive: false, default));
        Assert.True(await _ufs.DeleteAsync("x", recursive: true, default));
        Assert.False(await _ufs.DeleteAsync("x", recursive: true, default));
        Assert.False(Directory.Exists(Local("x")));
    }

    [Theory]
    [InlineData("..")]
    [InlineData("a/../..")]
    [InlineData("./a")]
    [InlineData("/etc")]
    [InlineData("a//b")]
    [InlineData("a/")]
    public async Task PathsThatCouldLeaveTheRootAreInvalid(string path)
    {
        var error = await Assert.ThrowsAsync<UfsException>(() => _ufs.GetStatusAsync(path, default).AsTask());
        Assert.Equal(UfsErrorKind.InvalidArgument, error.Kind);
    }

    [Fact]
    public async Task SymlinksOutOfTheRootAreRefusedAndLeftOutOfListings()
    {
        Directory.CreateDirectory(Path.Join(_dir, "outside"));
        await File.WriteAllTextAsync(Path.Join(_dir, "outside", "secret"), "s");
        await File.WriteAllTextAsync(Local("inside.txt"), "ok");
        File.CreateSymbolicLink(Local("escape"), Path.Join(_dir, "outside"));
        File.CreateSymbolicLink(Local("fine"), Local("inside.txt"));

        Assert.Equal(UfsErrorKind.PermissionDenied, (await Assert.ThrowsAsync<UfsException>(() => _ufs.GetStatusAsync("escape/secret", default).AsTask())).Kind);
        Assert.Equal(UfsErrorKind.PermissionDenied, (await Assert.ThrowsAsync<UfsException>(() => _ufs.ListAsync("escape", null, 10, default).AsTask())).Kind);
        Assert.Equal(UfsErrorKind.PermissionDenied, (await Assert.ThrowsAsync<UfsException>(() => _ufs.MkdirsAsync("escape/new", default).AsTask())).Kind);
        Assert.False(Directory.Exists(Path.Join(_dir, "outside", "new")));

        var listing = await _ufs.ListAsync("", null, 10, default);
        Assert.Equal(["fine", "inside.txt"], listing.Entries.Select(e => e.Name).ToArray());
        Assert.Equal(2, (await _ufs.GetStatusAsync("fine", default))!.Length);
    }

    [Theory]
    [InlineData("file://otherhost/data")]
    [InlineData("file:///data?x=1")]
    [InlineData("s3://bucket/data")]
    public void FactoryRefusesUrisThatAreNotLocalDirectories(string uri)
    {
        var error = Assert.Throws<UfsException>(() => new LocalUnderFileSystemFactory().Create(new Uri(uri), NoOptions));
        Assert.Equal(UfsErrorKind.InvalidArgument, error.Kind);
    }

    [Fact]
    public void FactoryRefusesOptions()
    {
        var error = Assert.Throws<UfsException>(() => new LocalUnderFileSystemFactory().Create(new Uri("file:///tmp"), new Dictionary<string, string> { ["x"] = "1" }));
        Assert.Equal(UfsErrorKind.InvalidArgument, error.Kind);
    }

    [Fact]
    public async Task RegisteredUnderTheFileScheme()
    {
        var systems = new UnderFileSystems([new LocalUnderFileSystemFactory()]);
        await using var ufs = systems.Create("file://" + Path.Join(_dir, "root"), NoOptions);
        Assert.True((await ufs.GetStatusAsync("", default))!.IsDirectory);
    }
}
