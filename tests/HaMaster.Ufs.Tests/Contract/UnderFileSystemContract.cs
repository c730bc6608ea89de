using System.Text;

namespace HaMaster.Ufs.Tests.Contract;

/// <summary>
/// What every connector must do, whatever the store: a derived class per connector supplies
/// fresh empty stores (<see cref="NewStoreAsync"/>) and inherits these tests.
/// </summary>
public abstract partial class UnderFileSystemContract
{
    private static readonly CancellationToken None = CancellationToken.None;

    /// <summary>A new, empty store (a fresh bucket, prefix or directory) with its connector.</summary>
    protected abstract Task<ContractStore> NewStoreAsync();

    [Fact]
    public async Task ListPagesThroughThousandsOfEntriesInNameOrder()
    {
        await using var store = await NewStoreAsync();
        var expected = new List<(string Name, bool Directory)>();
        var writes = new List<string>();
        for (var i = 0; i < 2500; i++)
        {
            var name = $"f{i:D4}";
            writes.Add("big/" + name);
            expected.Add((name, false));
        }

        // Directories whose names sort between the files, each implied by one file inside.
        for (var i = 0; i < 10; i++)
        {
            var name = $"f{i * 250:D4}x";
            writes.Add($"big/{name}/inner");
            expected.Add((name, true));
        }

        await WriteAllAsync(store, writes);
        expected.Sort((a, b) => UfsNameOrder.Instance.Compare(a.Name, b.Name));

        var pages = await ListAllPagesAsync(store.Ufs, "big", 1000);
        Assert.InRange(pages.Count, 3, 10);
        Assert.All(pages, p => Assert.InRange(p.Count, 1, 1000));
        var listed = pages.SelectMany(p => p).ToList();
        Assert.Equal(expected.Select(e => $"{e.Name}:{e.Directory}"), listed.Select(e => $"{e.Name}:{e.IsDirectory}"));
    }

    [Fact]
    public async Task ListMergesFilesAndDirectoriesByNameAcrossSmallPages()
    {
        await using var store = await NewStoreAsync();
        // As keys "a.txt" < "a/" and "c-1" < "c/", but as names the directories come first.
        await WriteAllAsync(store, ["a/x", "a.txt", "b", "c-1", "a/y/z"]);
        await store.Ufs.MkdirsAsync("c", None);

        foreach (var pageSize in new[] { 1, 2, 3, 100 })
        {
            var listed = (await ListAllPagesAsync(store.Ufs, "", pageSize)).SelectMany(p => p).ToList();
            Assert.Equal(["a:True", "a.txt:False", "b:False", "c:True", "c-1:False"], listed.Select(e => $"{e.Name}:{e.IsDirectory}"));
        }

        var inner = (await ListAllPagesAsync(store.Ufs, "a", 10)).SelectMany(p => p).ToList();
        Assert.Equal(["x:False", "y:True"], inner.Select(e => $"{e.Name}:{e.IsDirectory}"));
    }

    [Fact]
    public async Task ListOfAMissingDirectoryIsNotFoundAndAnEmptyOneIsEmpty()
    {
        await using var store = await NewStoreAsync();
        await AssertKindAsync(UfsErrorKind.NotFound, () => store.Ufs.ListAsync("nothing/here", null, 10, None).AsTask());
        await store.Ufs.MkdirsAsync("empty", None);
        var page = await store.Ufs.ListAsync("empty", null, 10, None);
        Assert.Empty(page.Entries);
        Assert.Null(page.ContinuationToken);
        var root = await store.Ufs.ListAsync("", null, 10, None);
        Assert.Equal(["empty"], root.Entries.Select(e => e.Name));
    }

    [Fact]
    public async Task StatusOfFileMarkedDirectoryImpliedDirectoryAndMissingEntry()
    {
        await using var store = await NewStoreAsync();
        await store.WriteOutsideAsync("implied/file.bin", Encoding.UTF8.GetBytes("hello"));
        await store.Ufs.MkdirsAsync("marked", None);

        var file = await store.Ufs.GetStatusAsync("implied/file.bin", None);
        Assert.NotNull(file);
        Assert.False(file.IsDirectory);
        Assert.Equal("file.bin", file.Name);
        Assert.Equal(5, file.Length);
        Assert.True(file.ModificationTimeMs > 0);
        Assert.NotEmpty(file.ContentTag);

        var implied = await store.Ufs.GetStatusAsync("implied", None);
        Assert.Equal(new UfsStatus("implied", true, 0, implied!.ModificationTimeMs, ""), implied);
        var marked = await store.Ufs.GetStatusAsync("marked", None);
        Assert.True(marked is { IsDirectory: true, Name: "marked" });
        var root = await store.Ufs.GetStatusAsync("", None);
        Assert.True(root is { IsDirectory: true, Name: "" });

        Assert.Null(await store.Ufs.GetStatusAsync("missing", None));
        Assert.Null(await store.Ufs.GetStatusAsync("implied/missing", None));
        Assert.Null(await store.Ufs.GetStatusAsync("impl", None));

        // A listing and a status of the same file agree on the fingerprint.
        var listed = (await store.Ufs.ListAsync("implied", null, 10, None)).Entries.Single();
        Assert.Equal(file.Fingerprint, listed.Fingerprint);
    }

    [Fact]
    public async Task MkdirsCreatesParentsIsIdempotentAndRefusesAFile()
    {
        await using var store = await NewStoreAsync();
        await store.Ufs.MkdirsAsync("p/q/r", None);
        await store.Ufs.MkdirsAsync("p/q/r", None);
        foreach (var path in new[] { "p", "p/q", "p/q/r" })
        {
            Assert.True((await store.Ufs.GetStatusAsync(path, None))?.IsDirectory, path);
        }

        // The parents exist on their own: deleting the leaf leaves them.
        Assert.True(await store.Ufs.DeleteAsync("p/q/r", recursive: false, None));
        Assert.True((await store.Ufs.GetStatusAsync("p/q", None))?.IsDirectory);
        Assert.Empty((await store.Ufs.ListAsync("p/q", null, 10, None)).Entries);

        await store.WriteOutsideAsync("p/file", "x"u8.ToArray());
        await AssertKindAsync(UfsErrorKind.AlreadyExists, () => store.Ufs.MkdirsAsync("p/file", None).AsTask());
    }

    [Fact]
    public async Task CreateEmptyFileMakesAZeroLengthFileOnce()
    {
        await using var store = await NewStoreAsync();
        await store.Ufs.MkdirsAsync("d", None);
        await store.Ufs.CreateEmptyFileAsync("d/new", None);
        var status = await store.Ufs.GetStatusAsync("d/new", None);
        Assert.True(status is { IsDirectory: false, Length: 0, Name: "new" });

        await AssertKindAsync(UfsErrorKind.AlreadyExists, () => store.Ufs.CreateEmptyFileAsync("d/new", None).AsTask());
        await AssertKindAsync(UfsErrorKind.AlreadyExists, () => store.Ufs.CreateEmptyFileAsync("d", None).AsTask());
        Assert.Equal(["new"], (await store.Ufs.ListAsync("d", null, 10, None)).Entries.Select(e => e.Name));
    }

    [Fact]
    public async Task DeleteFileReturnsWhetherSomethingWasThere()
    {
        await using var store = await NewStoreAsync();
        await store.WriteOutsideAsync("d/f", "data"u8.ToArray());
        await store.WriteOutsideAsync("d/g", "data"u8.ToArray());
        Assert.True(await store.Ufs.DeleteAsync("d/f", recursive: false, None));
        Assert.Null(await store.Ufs.GetStatusAsync("d/f", None));
        Assert.False(await store.Ufs.DeleteAsync("d/f", recursive: false, None));
        Assert.Equal(["g"], (await store.Ufs.ListAsync("d", null, 10, None)).Entries.Select(e => e.Name));
    }

    [Fact]
    public async Task DeleteOfADirectoryNeedsRecursiveUnlessEmptyAndRemovesEverythingBelow()
    {
        await using var store = await NewStoreAsync();
        var writes = Enumerable.Range(0, 1050).Select(i => $"tree/s{i % 7}/f{i:D4}").Append("keep/x").ToList();
        await WriteAllAsync(store, writes);
        await store.Ufs.MkdirsAsync("tree/marked/deeper", None);

        await AssertKindAsync(UfsErrorKind.FailedPrecondition, () => store.Ufs.DeleteAsync("tree", recursive: false, None).AsTask());
        Assert.NotNull(await store.Ufs.GetStatusAsync("tree/s3/f0003", None));

        Assert.True(await store.Ufs.DeleteAsync("tree", recursive: true, None));
        Assert.Null(await store.Ufs.GetStatusAsync("tree", None));
        Assert.Null(await store.Ufs.GetStatusAsync("tree/marked", None));
        Assert.Equal(["keep"], (await store.Ufs.ListAsync("", null, 10, None)).Entries.Select(e => e.Name));
        Assert.False(await store.Ufs.DeleteAsync("tree", recursive: true, None));
    }

    [Fact]
    public async Task RenameMovesAFileOrADirectoryWithItsContent()
    {
        await using var store = await NewStoreAsync();
        await store.WriteOutsideAsync("src/a", "alpha"u8.ToArray());
        await store.WriteOutsideAsync("src/sub/b", "beta"u8.ToArray());
        await store.Ufs.MkdirsAsync("src/empty", None);
        await store.WriteOutsideAsync("file", "f"u8.ToArray());

        await store.Ufs.RenameAsync("file", "renamed", None);
        Assert.Null(await store.Ufs.GetStatusAsync("file", None));
        Assert.Equal(1, (await store.Ufs.GetStatusAsync("renamed", None))?.Length);

        await store.Ufs.RenameAsync("src", "dst", None);
        Assert.Null(await store.Ufs.GetStatusAsync("src", None));
        Assert.Equal(5, (await store.Ufs.GetStatusAsync("dst/a", None))?.Length);
        Assert.Equal(4, (await store.Ufs.GetStatusAsync("dst/sub/b", None))?.Length);
        Assert.True((await store.Ufs.GetStatusAsync("dst/empty", None))?.IsDirectory);
        Assert.Equal(["a", "empty", "sub"], (await store.Ufs.ListAsync("dst", null, 10, None)).Entries.Select(e => e.Name));

        await AssertKindAsync(UfsErrorKind.NotFound, () => store.Ufs.RenameAsync("src", "other", None).AsTask());
        await AssertKindAsync(UfsErrorKind.AlreadyExists, () => store.Ufs.RenameAsync("renamed", "dst", None).AsTask());
        Assert.NotNull(await store.Ufs.GetStatusAsync("renamed", None));
    }

    [Fact]
    public async Task FingerprintChangesWhenAnotherProgramOverwritesTheFile()
    {
        await using var store = await NewStoreAsync();
        await store.WriteOutsideAsync("data.csv", "1,2,3"u8.ToArray());
        var before = await store.Ufs.GetStatusAsync("data.csv", None);
        await store.WriteOutsideAsync("data.csv", "4,5,6"u8.ToArray());
        var after = await store.Ufs.GetStatusAsync("data.csv", None);
        Assert.NotNull(before);
        Assert.NotNull(after);
        Assert.Equal(before.Length, after.Length);
        Assert.NotEqual(before.Fingerprint, after.Fingerprint);
        var listed = (await store.Ufs.ListAsync("", null, 10, None)).Entries.Single();
        Assert.Equal(after.Fingerprint, listed.Fingerprint);
    }

    [Fact]
    public async Task BadPathsAndTokensAreInvalidArgument()
    {
        await using var store = await NewStoreAsync();
        foreach (var path in new[] { "/a", "a/", "a//b", "a/../b", "." })
        {
            await AssertKindAsync(UfsErrorKind.InvalidArgument, () => store.Ufs.GetStatusAsync(path, None).AsTask());
        }

        await AssertKindAsync(UfsErrorKind.InvalidArgument, () => store.Ufs.ListAsync("", "not-a-token", 10, None).AsTask());
        await AssertKindAsync(UfsErrorKind.InvalidArgument, () => store.Ufs.ListAsync("", null, 0, None).AsTask());
    }

    protected static async Task<UfsException> AssertKindAsync(UfsErrorKind kind, Func<Task> action)
    {
        var error = await Assert.ThrowsAsync<UfsException>(action);
        Assert.True(error.Kind == kind, $"expected {kind}, got {error.Kind}: {error.Message}");
        return error;
    }

    /// <summary>Every page of a listing, following tokens; bounded so a token that never ends fails the test.</summary>
    protected static async Task<List<IReadOnlyList<UfsStatus>>> ListAllPagesAsync(IUnderFileSystem ufs, string path, int pageSize)
    {
        var pages = new List<IReadOnlyList<UfsStatus>>();
        string? token = null;
        for (var call = 0; call < 10_000; call++)
        {
            var page = await ufs.ListAsync(path, token, pageSize, None);
            Assert.True(page.Entries.Count <= pageSize, $"page of {page.Entries.Count} entries for page size {pageSize}");
            pages.Add(page.Entries);
            token = page.ContinuationToken;
            if (token is null)
            {
                return pages;
            }
        }

        Assert.Fail($"listing of '{path}' did not end within 10,000 pages");
        return pages;
    }

    private static async Task WriteAllAsync(ContractStore store, IEnumerable<string> paths) =>
        await Parallel.ForEachAsync(paths, new ParallelOptions { MaxDegreeOfParallelism = 16 },
            async (path, _) => await store.WriteOutsideAsync(path, Encoding.UTF8.GetBytes(path)));
}
