using HaMaster.Chaos.Core.Files;

namespace HaMaster.Journal.Tests;

public class DurableFileTests
{
    [Fact]
    public void Replaces_the_whole_file_and_leaves_no_temp_file()
    {
        using var dir = new TempDirectory();
        var path = Path.Combine(dir.Path, "cluster.state");
        DurableFile.WriteAtomically(path, new byte[] { 1, 2, 3, 4 });
        DurableFile.WriteAtomically(path, new byte[] { 9 });

        Assert.Equal(new byte[] { 9 }, File.ReadAllBytes(path));
        Assert.Equal(["cluster.state"], Directory.GetFiles(dir.Path).Select(Path.GetFileName));
    }
}
