using HaMaster.Metadata.Store;

namespace HaMaster.Metadata.Tests;

/// <summary>Checkpoint clones: immutable SST files are hard-linked (link(2) through Tmds.LibC), the rest copied.</summary>
public sealed class DirectoryLinksTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("hamaster-links-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public void Sst_files_are_linked_and_the_others_copied()
    {
        var source = Path.Combine(_dir, "checkpoint");
        var target = Path.Combine(_dir, "clone");
        Directory.CreateDirectory(source);
        File.WriteAllText(Path.Combine(source, "000001.sst"), "table");
        File.WriteAllText(Path.Combine(source, "MANIFEST-000002"), "manifest");

        DirectoryLinks.LinkOrCopy(source, target);

        // Writing through the source's name shows in the clone only if both names are one file.
        File.WriteAllText(Path.Combine(source, "000001.sst"), "TABLE");
        File.WriteAllText(Path.Combine(source, "MANIFEST-000002"), "MANIFEST");
        Assert.Equal("TABLE", File.ReadAllText(Path.Combine(target, "000001.sst")));
        Assert.Equal("manifest", File.ReadAllText(Path.Combine(target, "MANIFEST-000002")));
    }

    [Fact]
    public void A_missing_checkpoint_is_refused_naming_it()
    {
        var missing = Path.Combine(_dir, "gone");
        var e = Assert.Throws<DirectoryNotFoundException>(() => DirectoryLinks.LinkOrCopy(missing, Path.Combine(_dir, "clone")));
        Assert.Contains(missing, e.Message, StringComparison.Ordinal);
    }
}
