using HaMaster.Chaos.Core.Files;
using HaMaster.Protos.V1;

namespace HaMaster.Metadata.Tests;

/// <summary>CreateFiles (issue 19's bulk load): each name as its own CreateFile, in one entry.</summary>
public sealed class BulkCreateTests
{
    public static TheoryData<string> Kinds => StoreKinds.All;

    [Theory]
    [MemberData(nameof(Kinds))]
    public void Each_name_is_created_or_refused_on_its_own_and_equals_one_create_per_name(string kind)
    {
        using var bulkDir = new TempDirectory();
        using var oneDir = new TempDirectory();
        using var bulk = MetadataStateMachine.Open(bulkDir.Path, StoreKinds.Options(kind));
        using var one = MetadataStateMachine.Open(oneDir.Path, StoreKinds.Options(kind));
        var fb = new EntryFactory();
        var fo = new EntryFactory();
        string[] names = ["c", "a", "exists", "b/x", "d"];
        foreach (var (sm, f) in new[] { (bulk, fb), (one, fo) })
        {
            Assert.Equal(MetadataStatus.Ok, sm.Apply(f, f.Mkdir("/data/logs", recursive: true)).Status);
            Assert.Equal(MetadataStatus.Ok, sm.Apply(f, f.Create("/data/logs/exists")).Status);
        }

        var bulkTime = fb.TimeMs;
        var result = bulk.Apply(fb, fb.Entry(e => e.CreateFiles = new CreateFilesRequest { Directory = "/data/logs", Names = { names }, Mode = 0x180 }));
        Assert.Equal(MetadataStatus.Ok, result.Status);
        Assert.Equal(3u, result.CreateFiles.Created);
        Assert.Equal(
            [(2u, MetadataStatus.AlreadyExists, "/data/logs/exists: already exists"), (3u, MetadataStatus.InvalidArgument, "names[3]: \"b/x\" is not a single path component")],
            result.CreateFiles.Failures.Select(x => (x.Index, x.Status, x.Message)));

        // The same files as one CreateFile per name, in request order, at the same entry time: the same state.
        foreach (var name in new[] { "c", "a", "d" })
        {
            fo.TimeMs = bulkTime;
            Assert.Equal(MetadataStatus.Ok, one.Apply(fo, fo.Create("/data/logs/" + name, mode: 0x180)).Status);
        }

        Assert.Equal(one.Digest(), bulk.Digest());
        Assert.Equal(["a", "c", "d", "exists"], bulk.ListStatus("/data/logs").Value!.Entries.Select(e => e.Name));
        Assert.Equal(0x180u, bulk.GetStatus("/data/logs/a").Value!.Mode);
    }

    [Fact]
    public void A_missing_directory_needs_recursive_and_bad_requests_change_nothing()
    {
        using var dir = new TempDirectory();
        using var sm = MetadataStateMachine.Open(dir.Path, StoreKinds.Options("rocks"));
        var f = new EntryFactory();
        var before = sm.Digest();

        var missing = sm.Apply(f, f.Entry(e => e.CreateFiles = new CreateFilesRequest { Directory = "/new/dir", Names = { "x", "y" } }));
        Assert.Equal(0u, missing.CreateFiles.Created);
        Assert.All(missing.CreateFiles.Failures, x => Assert.Equal(MetadataStatus.NotFound, x.Status));
        Assert.Equal(MetadataStatus.InvalidArgument, sm.Apply(f, f.Entry(e => e.CreateFiles = new CreateFilesRequest { Directory = "/new" })).Status);
        Assert.Equal(MetadataStatus.InvalidArgument, sm.Apply(f, f.Entry(e => e.CreateFiles = new CreateFilesRequest { Directory = "new", Names = { "x" } })).Status);
        var tooMany = sm.Apply(f, f.Entry(e => e.CreateFiles = new CreateFilesRequest { Directory = "/new", Names = { Enumerable.Range(0, InputLimits.MaxNamesPerCreateFiles + 1).Select(i => $"f{i}") } }));
        Assert.Equal((MetadataStatus.InvalidArgument, "names: 1001 given, 1 to 1000 allowed"), (tooMany.Status, tooMany.Message));
        Assert.Equal(before, sm.Digest());

        var created = sm.Apply(f, f.Entry(e => e.CreateFiles = new CreateFilesRequest { Directory = "/new/dir", Names = { "x", "y" }, Recursive = true }));
        Assert.Equal((2u, 0), (created.CreateFiles.Created, created.CreateFiles.Failures.Count));
        Assert.Equal(5UL, sm.Counts.Inodes);
    }
}
