using HaMaster.Chaos.Core.Files;
using HaMaster.Protos.V1;

namespace HaMaster.Metadata.Tests;

/// <summary>Apply side of writes under a mount (issue 18): preview, write_through marking, persist reports.</summary>
public sealed class WriteThroughTests
{
    private static JournalEntry Mount(EntryFactory f, string path, bool readOnly = false) =>
        f.Entry(e => e.Mount = new MountRequest { Path = path, UfsUri = "file:///srv/w", Options = new MountOptions { ReadOnly = readOnly } });

    private static JournalEntry Persist(EntryFactory f, string path, ulong mountId, ulong length, string fingerprint) =>
        f.Entry(e => e.PersistFile = new PersistFileCommand { Path = path, MountId = mountId, Length = length, Fingerprint = fingerprint });

    [Fact]
    public void PreviewAnswersAsApplyWouldAndChangesNothing()
    {
        using var dir = new TempDirectory();
        using var sm = MetadataStateMachine.Open(dir.Path, StoreKinds.Options("rocks"));
        var f = new EntryFactory();
        sm.Apply(f, Mount(f, "/m"));
        sm.Apply(f, f.Mkdir("/m/full/sub", recursive: true));
        var digest = sm.Digest();
        var applied = sm.AppliedIndex;

        Assert.Equal(MetadataStatus.Ok, sm.Preview(f.Delete("/m/full", recursive: true)).Status);
        Assert.Equal(MetadataStatus.FailedPrecondition, sm.Preview(f.Delete("/m/full")).Status);
        Assert.Equal(MetadataStatus.NotFound, sm.Preview(f.Delete("/m/missing")).Status);
        Assert.Equal(MetadataStatus.FailedPrecondition, sm.Preview(f.Rename("/m/full", "/elsewhere")).Status);
        var renamed = sm.Preview(f.Rename("/m/full", "/m/moved"));
        Assert.True(renamed.FileInfo.Persisted);
        Assert.Equal((digest, applied), (sm.Digest(), sm.AppliedIndex));
        Assert.True(sm.GetStatus("/m/full/sub").IsOk);
    }

    [Fact]
    public void OnlyWrittenThroughDirectoriesArePersistedAndFilesWaitForTheirReport()
    {
        using var dir = new TempDirectory();
        using var sm = MetadataStateMachine.Open(dir.Path, StoreKinds.Options("heap"));
        var f = new EntryFactory();
        var mountId = sm.Apply(f, Mount(f, "/m")).Mount.MountId;

        sm.Apply(f, f.Entry(e => e.CreateDirectory = new CreateDirectoryRequest { Path = "/m/local", WriteThrough = false }));
        Assert.False(sm.GetStatus("/m/local").Value!.Persisted);
        sm.Apply(f, f.Entry(e => e.CreateFile = new CreateFileRequest { Path = "/m/a/b/f", Recursive = true, WriteThrough = true }));
        sm.Apply(f, f.Entry(e => e.CreateFile = new CreateFileRequest { Path = "/m/c/g", Recursive = true }));
        Assert.True(sm.GetStatus("/m/a").Value!.Persisted);
        Assert.Equal("d", sm.GetStatus("/m/a/b").Value!.UfsFingerprint);
        Assert.False(sm.GetStatus("/m/a/b/f").Value!.Persisted);
        Assert.False(sm.GetStatus("/m/c").Value!.Persisted); // the proposer did not say it created it in the store

        // Persisted only once complete and with the same length as the store's entry.
        Assert.Equal(MetadataStatus.FailedPrecondition, sm.Apply(f, Persist(f, "/m/a/b/f", mountId, 0, "f:0:1:x")).Status);
        sm.Apply(f, f.Allocate("/m/a/b/f"));
        sm.Apply(f, f.Complete("/m/a/b/f", 5));
        Assert.Equal(MetadataStatus.FailedPrecondition, sm.Apply(f, Persist(f, "/m/a/b/f", mountId, 4, "f:4:1:x")).Status);
        Assert.Equal(MetadataStatus.FailedPrecondition, sm.Apply(f, Persist(f, "/m/a/b/f", mountId + 99, 5, "f:5:1:x")).Status);
        Assert.Equal(MetadataStatus.FailedPrecondition, sm.Apply(f, Persist(f, "/m/a", mountId, 0, "d")).Status);
        var persisted = sm.Apply(f, Persist(f, "/m/a/b/f", mountId, 5, "f:5:1:x"));
        Assert.Equal((MetadataStatus.Ok, true, "f:5:1:x"), (persisted.Status, persisted.FileInfo.Persisted, persisted.FileInfo.UfsFingerprint));

        // A repeated report is answered as it is and changes nothing.
        var digest = sm.Digest();
        Assert.Equal(MetadataStatus.Ok, sm.Apply(f, Persist(f, "/m/a/b/f", mountId, 5, "f:5:1:x")).Status);
        Assert.Equal(digest, sm.Digest());
    }
}
