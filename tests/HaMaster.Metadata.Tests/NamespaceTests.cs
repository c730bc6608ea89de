using HaMaster.Chaos.Core.Files;
using HaMaster.Protos.V1;

namespace HaMaster.Metadata.Tests;

/// <summary>Exact results of the namespace commands, for every store kind.</summary>
public sealed class NamespaceTests
{
    public static TheoryData<string> Kinds => StoreKinds.All;

    [Theory]
    [MemberData(nameof(Kinds))]
    public void ErrorsCarryPreciseMessages(string kind)
    {
        using var dir = new TempDirectory();
        using var sm = MetadataStateMachine.Open(dir.Path, StoreKinds.Options(kind));
        var f = new EntryFactory();
        Assert.Equal(MetadataStatus.Ok, sm.Apply(f, f.Mkdir("/a")).Status);
        Assert.Equal(MetadataStatus.Ok, sm.Apply(f, f.Create("/a/f")).Status);

        void Expect(JournalEntry entry, MetadataStatus status, string message)
        {
            var result = sm.Apply(f, entry);
            Assert.Equal((status, message), (result.Status, result.Message));
        }

        Expect(f.Mkdir("/a"), MetadataStatus.AlreadyExists, "/a: already exists");
        Expect(f.Mkdir("/a/f", recursive: true), MetadataStatus.AlreadyExists, "/a/f: already exists");
        Expect(f.Mkdir("/x/y"), MetadataStatus.NotFound, "/x/y: parent /x does not exist");
        Expect(f.Mkdir("/x/y/z"), MetadataStatus.NotFound, "/x/y/z: parent /x/y does not exist");
        Expect(f.Create("/a/f/g"), MetadataStatus.FailedPrecondition, "/a/f/g: parent /a/f is not a directory");
        Expect(f.Create("/a/f/g/h", recursive: true), MetadataStatus.FailedPrecondition, "/a/f/g/h: ancestor /a/f is not a directory");
        Expect(f.Delete("/a"), MetadataStatus.FailedPrecondition, "/a: directory not empty");
        Expect(f.Delete("/"), MetadataStatus.InvalidArgument, "/: cannot delete the root directory");
        Expect(f.Delete("/nope"), MetadataStatus.NotFound, "/nope: does not exist");
        Expect(f.Rename("/a", "/a/b"), MetadataStatus.FailedPrecondition, "rename /a to /a/b: cannot move a directory into itself");
        Expect(f.Rename("/", "/b"), MetadataStatus.InvalidArgument, "/: cannot rename the root directory");
        Expect(f.Rename("/a/f", "/a"), MetadataStatus.AlreadyExists, "/a: already exists");
        Expect(f.Rename("/a/f", "/q/f"), MetadataStatus.NotFound, "/q/f: parent /q does not exist");
        Expect(f.Mkdir("/m", mode: 0x1000), MetadataStatus.InvalidArgument, "mode 10000 is out of range (at most 7777 octal)");
        Expect(f.Complete("/a", 0), MetadataStatus.FailedPrecondition, "/a: is a directory, not a file");
        Expect(f.Complete("/a/f", 1), MetadataStatus.InvalidArgument, "/a/f: length 1 exceeds the 0 allocated blocks of 1024 bytes");
        Expect(f.Entry(e => { }), MetadataStatus.InvalidArgument, "journal entry carries no known command");
        Expect(f.Entry(e => e.SetAttribute = new() { Path = "/a", Owner = "" }), MetadataStatus.InvalidArgument, "owner must not be empty");
        Expect(f.Commit(9, 1, 1), MetadataStatus.NotFound, "worker 9 is not registered");
        Expect(f.Register(""), MetadataStatus.InvalidArgument, "worker address must not be empty");
        Assert.Equal(MetadataStatus.Ok, sm.Apply(f, f.Complete("/a/f", 0)).Status);
        Expect(f.Allocate("/a/f"), MetadataStatus.FailedPrecondition, "/a/f: file is already complete");
        Expect(f.Mkdir("/"), MetadataStatus.AlreadyExists, "/: already exists");
        Assert.Equal(MetadataStatus.Ok, sm.Apply(f, f.Mkdir("/", recursive: true)).Status);
        Assert.Equal(MetadataStatus.NotFound, sm.GetBlockInfo(77).Status);
        Assert.Equal("block 77 does not exist", sm.GetBlockInfo(77).Message);
        Assert.Equal("/a/f/x: parent /a/f is not a directory", sm.GetStatus("/a/f/x").Message);
    }

    [Theory]
    [MemberData(nameof(Kinds))]
    public void OwnerGroupTimesAndIdsComeFromTheEntry(string kind)
    {
        using var dir = new TempDirectory();
        using var sm = MetadataStateMachine.Open(dir.Path, StoreKinds.Options(kind));
        var f = new EntryFactory { TimeMs = 5000, Caller = new Caller { User = "bob", Groups = { "eng", "all" } } };
        var created = sm.Apply(f, f.Create("/d/e/file", recursive: true)).FileInfo;
        Assert.Equal(("bob", "eng", 5000L, 4UL, 0x1A4u, 1024UL), (created.Owner, created.Group, created.CreationTimeMs, created.Id, created.Mode, created.BlockSizeBytes));
        var parent = sm.GetStatus("/d/e").Value!;
        Assert.Equal((3UL, 1UL, 0x1EDu, InodeKind.Directory, "/d/e"), (parent.Id, parent.ChildCount, parent.Mode, parent.Kind, parent.Path));
        Assert.Equal(1UL, sm.Apply(f, f.Allocate("/d/e/file")).BlockId);
        Assert.Equal(2UL, sm.Apply(f, f.Allocate("/d/e/file")).BlockId);
        Assert.Equal(1UL, sm.Apply(f, f.Register("w1:1")).WorkerId);
        Assert.Equal(MetadataStatus.Ok, sm.Apply(f, f.Commit(1, 2, 100)).Status);
        var blocks = sm.GetFileBlockInfo("/d/e/file").Value!;
        Assert.Equal([0UL, 1024UL], blocks.Blocks.Select(b => b.Offset));
        Assert.Equal("w1:1", blocks.Blocks[1].Block.Locations.Single().WorkerAddress);
        Assert.Equal(100UL, blocks.Blocks[1].Block.Length);

        // Rename keeps the id; delete removes blocks and their locations.
        Assert.Equal(4UL, sm.Apply(f, f.Rename("/d/e/file", "/d/moved")).FileInfo.Id);
        Assert.Equal(3UL, sm.Apply(f, f.Delete("/d", recursive: true)).DeletedCount);
        Assert.Equal(MetadataStatus.NotFound, sm.GetBlockInfo(2).Status);
        Assert.Equal(0UL, sm.ListWorkers().Single().BlockCount);
        Assert.Equal(new MetadataCounts(1, 0, 1), sm.Counts);
    }

    [Theory]
    [MemberData(nameof(Kinds))]
    public void ListingPagesThroughALargeDirectoryInNameOrder(string kind)
    {
        using var dir = new TempDirectory();
        using var sm = MetadataStateMachine.Open(dir.Path, StoreKinds.Options(kind) with { DefaultListLimit = 100, MaxListLimit = 250 });
        var f = new EntryFactory();
        sm.Apply(f, f.Mkdir("/big"));
        var names = Enumerable.Range(0, 1000).Select(i => $"n{i:x}").Concat(["Z", "é", "\uE000", "😀"]).ToList();
        sm.ApplyBatch(names.Select(n => f.Indexed(f.Create("/big/" + n))).ToList());
        var expected = names.OrderBy(n => System.Text.Encoding.UTF8.GetBytes(n), Comparer<byte[]>.Create((a, b) => a.AsSpan().SequenceCompareTo(b))).ToList();

        Assert.Equal(100, sm.ListStatus("/big").Value!.Entries.Count);
        Assert.Equal(250, sm.ListStatus("/big", 100_000).Value!.Entries.Count);
        var listed = new List<string>();
        string? token = null;
        for (var page = 0; page < 100; page++)
        {
            var response = sm.ListStatus("/big", 97, token).Value!;
            listed.AddRange(response.Entries.Select(e => e.Name));
            token = response.NextPageToken;
            if (token.Length == 0)
            {
                break;
            }
        }

        Assert.Equal(expected, listed);
        Assert.Equal("/big/Z", sm.ListStatus("/big", 1).Value!.Entries[0].Path);
        Assert.Equal(MetadataStatus.InvalidArgument, sm.ListStatus("/big", 1, "a/b").Status);
        Assert.Equal("/big/n0", sm.ListStatus("/big/n0").Value!.Entries.Single().Path);
    }
}
