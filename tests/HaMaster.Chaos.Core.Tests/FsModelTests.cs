using HaMaster.Chaos.Core.Linearizability;
using HaMaster.Chaos.Core.Models;

namespace HaMaster.Chaos.Core.Tests;

/// <summary>The sequential file-system specification itself.</summary>
public sealed class FsModelTests
{
    private static FsState Run(params FsInput[] inputs)
    {
        var state = FsState.Empty;
        foreach (var input in inputs)
        {
            state = FsModel.Apply(state, input).Next;
        }

        return state;
    }

    private static FsOutput After(FsInput[] setup, FsInput input) => FsModel.Apply(Run(setup), input).Output;

    [Fact]
    public void Create_reports_exists_missing_parent_and_file_parent()
    {
        Assert.Equal(FsOutput.Ok, After([], FsInput.CreateFile("/f")));
        Assert.Equal(FsOutput.Of(FsStatus.AlreadyExists), After([FsInput.CreateFile("/f")], FsInput.CreateFile("/f")));
        Assert.Equal(FsOutput.Of(FsStatus.AlreadyExists), After([FsInput.CreateFile("/f")], FsInput.Mkdir("/f")));
        Assert.Equal(FsOutput.Of(FsStatus.ParentMissing), After([], FsInput.CreateFile("/d/f")));
        Assert.Equal(FsOutput.Of(FsStatus.NotADirectory), After([FsInput.CreateFile("/f")], FsInput.CreateFile("/f/g")));
        Assert.Equal(FsOutput.Of(FsStatus.AlreadyExists), After([], FsInput.Mkdir("/")));
    }

    [Fact]
    public void Delete_is_non_recursive()
    {
        FsInput[] tree = [FsInput.Mkdir("/d"), FsInput.CreateFile("/d/f")];
        Assert.Equal(FsOutput.Of(FsStatus.NotEmpty), After(tree, FsInput.Delete("/d")));
        Assert.Equal(FsOutput.Ok, After(tree, FsInput.Delete("/d/f")));
        Assert.Equal(FsOutput.Of(FsStatus.NotFound), After(tree, FsInput.Delete("/e")));
        Assert.Equal(FsOutput.Of(FsStatus.InvalidArgument), After(tree, FsInput.Delete("/")));
        Assert.Equal(FsState.Empty, Run([.. tree, FsInput.Delete("/d/f"), FsInput.Delete("/d")]));
    }

    [Fact]
    public void Rename_moves_a_subtree_and_checks_source_destination_and_cycles()
    {
        FsInput[] tree = [FsInput.Mkdir("/a"), FsInput.Mkdir("/a/s"), FsInput.CreateFile("/a/s/f", 384), FsInput.Mkdir("/b")];
        var moved = Run([.. tree, FsInput.Rename("/a/s", "/b/t")]);
        Assert.Equal(FsOutput.Found(FsKind.File, 384), FsModel.Apply(moved, FsInput.GetStatus("/b/t/f")).Output);
        Assert.Equal(FsOutput.Of(FsStatus.NotFound), FsModel.Apply(moved, FsInput.GetStatus("/a/s")).Output);
        Assert.Equal(FsOutput.Of(FsStatus.NotFound), After(tree, FsInput.Rename("/x", "/y")));
        Assert.Equal(FsOutput.Of(FsStatus.DestinationExists), After(tree, FsInput.Rename("/a/s", "/b")));
        Assert.Equal(FsOutput.Of(FsStatus.DestinationExists), After(tree, FsInput.Rename("/a", "/a")));
        Assert.Equal(FsOutput.Of(FsStatus.ParentMissing), After(tree, FsInput.Rename("/a/s", "/c/s")));
        Assert.Equal(FsOutput.Of(FsStatus.InvalidArgument), After(tree, FsInput.Rename("/a", "/a/s/inner")));
    }

    [Fact]
    public void Status_and_list_report_kind_mode_and_sorted_children()
    {
        FsInput[] tree = [FsInput.Mkdir("/d"), FsInput.CreateFile("/d/zeta"), FsInput.Mkdir("/d/alpha"), FsInput.SetMode("/d/zeta", 256)];
        Assert.Equal(FsOutput.Found(FsKind.File, 256), After(tree, FsInput.GetStatus("/d/zeta")));
        Assert.Equal(FsOutput.Found(FsKind.Directory, FsInput.DefaultDirectoryMode), After(tree, FsInput.GetStatus("/d/alpha")));
        Assert.Equal(FsOutput.Listing(["alpha", "zeta"]), After(tree, FsInput.List("/d")));
        Assert.Equal(FsOutput.Listing(["d"]), After(tree, FsInput.List("/")));
        Assert.Equal(FsOutput.Of(FsStatus.NotADirectory), After(tree, FsInput.List("/d/zeta")));
        Assert.Equal(FsOutput.Of(FsStatus.NotFound), After(tree, FsInput.SetMode("/nope", 1)));
        Assert.NotEqual(FsOutput.Listing(["alpha"]), After(tree, FsInput.List("/d")));
    }

    [Fact]
    public void States_with_equal_content_are_equal_and_hash_alike()
    {
        var a = Run(FsInput.Mkdir("/a"), FsInput.Mkdir("/b"));
        var b = Run(FsInput.Mkdir("/b"), FsInput.Mkdir("/a"));
        Assert.Equal(a, b);
        Assert.Equal(a.GetHashCode(), b.GetHashCode());
        Assert.NotEqual(a, Run(FsInput.Mkdir("/a")));
    }

    [Fact]
    public void Paths_must_be_absolute_and_normalised()
    {
        Assert.Throws<ArgumentException>(() => FsInput.CreateFile("a"));
        Assert.Throws<ArgumentException>(() => FsInput.CreateFile("/a/"));
        Assert.Throws<ArgumentException>(() => FsInput.CreateFile("/a//b"));
    }

    [Fact]
    public void Partitions_follow_top_level_directories_and_merge_on_cross_renames()
    {
        var model = new FsModel();
        Operation<FsInput, FsOutput> Op(FsInput input) => Operation.Completed(1, input, 0, FsOutput.Ok, 1);
        Assert.Equal(2, model.Partition([Op(FsInput.Mkdir("/a")), Op(FsInput.Mkdir("/b")), Op(FsInput.CreateFile("/a/f"))]).Count);
        Assert.Single(model.Partition([Op(FsInput.Mkdir("/a")), Op(FsInput.Mkdir("/b")), Op(FsInput.Rename("/a/f", "/b/f"))]));
        Assert.Equal(2, model.Partition([Op(FsInput.Mkdir("/a")), Op(FsInput.Mkdir("/b")), Op(FsInput.Mkdir("/c")), Op(FsInput.Rename("/a/f", "/b/f"))]).Count);
        Assert.Single(model.Partition([Op(FsInput.Mkdir("/a")), Op(FsInput.Mkdir("/b")), Op(FsInput.List("/"))]));
    }
}
