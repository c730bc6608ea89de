using HaMaster.Metadata;
using HaMaster.Protos.V1;
using HaMaster.Server.Hosting;
using HaMaster.Server.Services;

namespace HaMaster.Server.Tests.Services;

/// <summary>
/// <see cref="StoreWriteThrough"/> on its own (issue 20): against a real local store and state
/// machine, each write's store step happens only when the namespace would accept the entry, and
/// the entry records whether it was done.
/// </summary>
public sealed class StoreWriteThroughTests : IDisposable
{
    private readonly DirectoryInfo _root = Directory.CreateTempSubdirectory("hamaster-writethrough-");
    private readonly MetadataStateMachine _machine;
    private readonly StoreWriteThrough _writeThrough;
    private ulong _index;

    public StoreWriteThroughTests()
    {
        Directory.CreateDirectory(StorePath(""));
        _machine = MetadataStateMachine.Open(Path.Combine(_root.FullName, "meta"), new MetastoreOptions { Kind = MetastoreKind.Heap });
        Apply(Entry(e => e.Mount = new MountRequest { Path = "/m", UfsUri = new Uri(StorePath("")).AbsoluteUri, Options = new MountOptions() }));
        _writeThrough = new StoreWriteThrough(_machine, new MountedStores(StoreConnectors.Create()));
    }

    public void Dispose()
    {
        _machine.Dispose();
        _root.Delete(recursive: true);
    }

    private string StorePath(string relative) => Path.Combine(_root.FullName, "store", relative);

    private static JournalEntry Entry(Action<JournalEntry> fill)
    {
        var entry = new JournalEntry { TimeMs = 1_700_000_000_000, Caller = new Caller { User = "alice" }, DefaultBlockSizeBytes = 1024 };
        fill(entry);
        return entry;
    }

    private void Apply(JournalEntry entry) => Assert.Equal(MetadataStatus.Ok, _machine.Apply(++_index, 1, entry).Status);

    [Fact]
    public async Task A_directory_under_a_mount_is_made_in_the_store_first_and_the_entry_says_so()
    {
        var entry = Entry(e => e.CreateDirectory = new CreateDirectoryRequest { Path = "/m/a/b", Recursive = true });

        await _writeThrough.CreateDirectoryAsync(entry, CancellationToken.None);

        Assert.True(Directory.Exists(StorePath("a/b")));
        Assert.True(entry.CreateDirectory.WriteThrough);
    }

    [Fact]
    public async Task A_write_that_asks_for_no_write_through_leaves_the_store_alone()
    {
        var entry = Entry(e => e.CreateDirectory = new CreateDirectoryRequest { Path = "/m/local", WriteThrough = false });

        await _writeThrough.CreateDirectoryAsync(entry, CancellationToken.None);

        Assert.False(Directory.Exists(StorePath("local")));
        Assert.True(entry.CreateDirectory.HasWriteThrough);
        Assert.False(entry.CreateDirectory.WriteThrough);
    }

    [Fact]
    public async Task A_delete_the_namespace_would_refuse_never_reaches_the_store()
    {
        // In the store but not (yet) in the namespace: the entry would fail NOT_FOUND, so the file stays.
        await File.WriteAllTextAsync(StorePath("unknown.txt"), "data");
        var entry = Entry(e => e.Delete = new DeleteRequest { Path = "/m/unknown.txt" });

        await _writeThrough.DeleteAsync(entry, CancellationToken.None);

        Assert.True(File.Exists(StorePath("unknown.txt")));
    }

    [Fact]
    public async Task A_delete_the_namespace_accepts_removes_the_store_entry()
    {
        var mkdir = Entry(e => e.CreateDirectory = new CreateDirectoryRequest { Path = "/m/gone" });
        await _writeThrough.CreateDirectoryAsync(mkdir, CancellationToken.None);
        Apply(mkdir);
        Assert.True(Directory.Exists(StorePath("gone")));

        await _writeThrough.DeleteAsync(Entry(e => e.Delete = new DeleteRequest { Path = "/m/gone" }), CancellationToken.None);

        Assert.False(Directory.Exists(StorePath("gone")));
    }

    [Fact]
    public async Task A_write_outside_every_mount_is_left_as_it_came()
    {
        var entry = Entry(e => e.CreateDirectory = new CreateDirectoryRequest { Path = "/plain" });

        await _writeThrough.CreateDirectoryAsync(entry, CancellationToken.None);

        Assert.False(entry.CreateDirectory.HasWriteThrough);
    }
}
