using HaMaster.Chaos.Core.Files;
using HaMaster.Protos.V1;

namespace HaMaster.Metadata.Tests;

public sealed class PermissionTests
{
    private static readonly PermissionPolicy Policy = new() { Enforce = true, Superuser = "hdfs", Supergroup = "supergroup" };

    [Fact]
    public void ModeBitsAreEnforcedWhenTheEntryCarriesAPolicy()
    {
        using var dir = new TempDirectory();
        using var sm = MetadataStateMachine.Open(dir.Path, new MetastoreOptions { Kind = MetastoreKind.Heap });
        var f = new EntryFactory();
        CommandResult As(string user, string group, Func<JournalEntry> make, bool enforce = true)
        {
            f.Caller = new Caller { User = user, Groups = { group } };
            var entry = make();
            if (enforce)
            {
                entry.Permissions = Policy;
            }

            return sm.Apply(f, entry);
        }

        void Denied(CommandResult result, string message)
        {
            Assert.Equal(MetadataStatus.PermissionDenied, result.Status);
            Assert.Equal(message, result.Message);
        }

        Denied(As("alice", "staff", () => f.Mkdir("/a")), "/a: permission denied: user alice lacks write+execute on /");
        Assert.Equal(MetadataStatus.Ok, As("hdfs", "hdfs", () => f.Mkdir("/home", mode: 0x1FF)).Status);
        Assert.Equal(MetadataStatus.Ok, As("alice", "staff", () => f.Mkdir("/home/alice")).Status);
        Assert.Equal(MetadataStatus.Ok, As("alice", "staff", () => f.Create("/home/alice/f")).Status);
        Denied(As("bob", "ops", () => f.Create("/home/alice/x")), "/home/alice/x: permission denied: user bob lacks write+execute on /home/alice");
        Denied(As("bob", "ops", () => f.Delete("/home/alice/f")), "/home/alice/f: permission denied: user bob lacks write+execute on /home/alice");
        Denied(As("bob", "ops", () => f.Rename("/home/alice/f", "/home/f")), "/home/alice/f: permission denied: user bob lacks write+execute on /home/alice");
        Denied(As("bob", "ops", () => f.Allocate("/home/alice/f")), "/home/alice/f: permission denied: user bob lacks write on /home/alice/f");
        Denied(As("bob", "ops", () => f.Entry(e => e.SetAttribute = new() { Path = "/home/alice", Mode = 0x1FF })), "/home/alice: permission denied: user bob is not the owner");
        Denied(As("alice", "staff", () => f.Entry(e => e.SetAttribute = new() { Path = "/home/alice", Owner = "bob" })), "/home/alice: permission denied: only the superuser may change the owner");

        Assert.Equal(MetadataStatus.Ok, As("alice", "staff", () => f.Entry(e => e.SetAttribute = new() { Path = "/home/alice", Mode = 0x1C0 })).Status);
        Denied(As("bob", "ops", () => f.Complete("/home/alice/f", 0)), "/home/alice/f: permission denied: user bob lacks execute on /home/alice");

        // Group bits apply to members of the inode's group; the supergroup and unchecked entries bypass.
        Assert.Equal(MetadataStatus.Ok, As("alice", "staff", () => f.Mkdir("/home/shared", mode: 0x1F8)).Status);
        Assert.Equal(MetadataStatus.Ok, As("carol", "staff", () => f.Create("/home/shared/c")).Status);
        Denied(As("bob", "ops", () => f.Create("/home/shared/b")), "/home/shared/b: permission denied: user bob lacks write+execute on /home/shared");
        Assert.Equal(MetadataStatus.Ok, As("dave", "supergroup", () => f.Create("/home/alice/d")).Status);
        Assert.Equal(MetadataStatus.Ok, As("bob", "ops", () => f.Create("/home/alice/e"), enforce: false).Status);
        Assert.Equal("dave", sm.GetStatus("/home/alice/d").Value!.Owner);
    }

    [Fact]
    public void RecursiveDeleteNeedsWriteOnEveryDirectoryOfTheSubtreeAndChangesNothingWhenRefused()
    {
        using var dir = new TempDirectory();
        using var sm = MetadataStateMachine.Open(dir.Path, new MetastoreOptions { Kind = MetastoreKind.Heap });
        var f = new EntryFactory();
        CommandResult As(string user, Func<JournalEntry> make)
        {
            f.Caller = new Caller { User = user, Groups = { user } };
            var entry = make();
            entry.Permissions = Policy;
            return sm.Apply(f, entry);
        }

        Assert.Equal(MetadataStatus.Ok, As("hdfs", () => f.Mkdir("/proj", mode: 0x1FF)).Status);
        Assert.Equal(MetadataStatus.Ok, As("alice", () => f.Mkdir("/proj/tree", mode: 0x1FF)).Status);
        Assert.Equal(MetadataStatus.Ok, As("bob", () => f.Mkdir("/proj/tree/bobs", mode: 0x1ED)).Status);   // 0755: others cannot remove entries
        Assert.Equal(MetadataStatus.Ok, As("bob", () => f.Create("/proj/tree/bobs/data")).Status);
        var inodes = sm.Counts.Inodes;

        var refused = As("alice", () => f.Entry(e => e.Delete = new DeleteRequest { Path = "/proj/tree", Recursive = true }));
        Assert.Equal(MetadataStatus.PermissionDenied, refused.Status);
        Assert.Equal("/proj/tree: permission denied: user alice lacks write+execute on /proj/tree/bobs", refused.Message);
        Assert.Equal(inodes, sm.Counts.Inodes);
        Assert.True(sm.GetStatus("/proj/tree/bobs/data").IsOk);

        Assert.Equal(MetadataStatus.Ok, As("bob", () => f.Delete("/proj/tree/bobs/data")).Status);
        Assert.Equal(MetadataStatus.Ok, As("alice", () => f.Entry(e => e.Delete = new DeleteRequest { Path = "/proj/tree", Recursive = true })).Status);
        Assert.Equal(MetadataStatus.NotFound, sm.GetStatus("/proj/tree").Status);
    }
}
