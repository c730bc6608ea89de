using HaMaster.Chaos.Core.Linearizability;
using HaMaster.Chaos.Core.Models;

namespace HaMaster.Chaos.Core.Tests;

/// <summary>The checker's teeth on file-system histories like the chaos clients record.</summary>
public sealed class FsCheckerTests
{
    private static HistoryBuilder<FsInput, FsOutput> H() => new();

    private static readonly FsOutput Ok = FsOutput.Ok;

    private static LinearizabilityResult Check(IReadOnlyList<Operation<FsInput, FsOutput>> history, FsState? initial = null)
        => new LinearizabilityChecker<FsState, FsInput, FsOutput>(new FsModel(initial)).Check(history);

    private static void AssertRejected(IReadOnlyList<Operation<FsInput, FsOutput>> history)
        => Assert.Equal(LinearizabilityVerdict.NotLinearizable, Check(history).Verdict);

    private static void AssertAccepted(IReadOnlyList<Operation<FsInput, FsOutput>> history)
    {
        var result = Check(history);
        Assert.True(result.IsLinearizable, result.Explain());
    }

    [Fact]
    public void Acknowledged_create_missing_later_is_rejected()
        => AssertRejected(H()
            .Ok(1, 0, 1, FsInput.Mkdir("/d"), Ok)
            .Ok(1, 2, 3, FsInput.CreateFile("/d/f"), Ok)
            .Ok(2, 10, 11, FsInput.GetStatus("/d/f"), FsOutput.Of(FsStatus.NotFound))
            .Build());

    [Fact]
    public void Create_acknowledged_twice_without_a_delete_is_rejected()
        => AssertRejected(H()
            .Ok(1, 0, 1, FsInput.Mkdir("/d"), Ok)
            .Ok(1, 2, 3, FsInput.CreateFile("/d/f"), Ok)
            .Ok(2, 4, 5, FsInput.CreateFile("/d/f"), Ok)
            .Build());

    [Fact]
    public void Concurrent_creates_of_one_path_cannot_both_succeed()
        => AssertRejected(H()
            .Ok(1, 0, 10, FsInput.Mkdir("/d"), Ok)
            .Ok(2, 1, 9, FsInput.Mkdir("/d"), Ok)
            .Build());

    [Fact]
    public void Concurrent_creates_of_one_path_one_wins_is_accepted()
        => AssertAccepted(H()
            .Ok(1, 0, 10, FsInput.Mkdir("/d"), FsOutput.Of(FsStatus.AlreadyExists))
            .Ok(2, 1, 9, FsInput.Mkdir("/d"), Ok)
            .Build());

    [Fact]
    public void Rename_applied_twice_is_rejected()
        => AssertRejected(H()
            .Ok(1, 0, 1, FsInput.Mkdir("/d"), Ok)
            .Ok(1, 2, 3, FsInput.CreateFile("/d/a"), Ok)
            .Ok(1, 4, 5, FsInput.Rename("/d/a", "/d/b"), Ok)
            .Ok(2, 6, 7, FsInput.Rename("/d/a", "/d/b"), Ok)
            .Build());

    [Fact]
    public void Stale_listing_is_rejected()
        => AssertRejected(H()
            .Ok(1, 0, 1, FsInput.Mkdir("/d"), Ok)
            .Ok(1, 2, 3, FsInput.CreateFile("/d/x"), Ok)
            .Ok(2, 4, 5, FsInput.List("/d"), FsOutput.Listing([]))
            .Build());

    [Fact]
    public void Read_your_writes_violation_on_mode_is_rejected()
        => AssertRejected(H()
            .Ok(1, 0, 1, FsInput.CreateFile("/f"), Ok)
            .Ok(1, 2, 3, FsInput.SetMode("/f", 384), Ok)
            .Ok(1, 4, 5, FsInput.GetStatus("/f"), FsOutput.Found(FsKind.File, FsInput.DefaultFileMode))
            .Build());

    [Fact]
    public void Delete_of_a_non_empty_directory_cannot_succeed()
        => AssertRejected(H()
            .Ok(1, 0, 1, FsInput.Mkdir("/d"), Ok)
            .Ok(1, 2, 3, FsInput.CreateFile("/d/f"), Ok)
            .Ok(2, 4, 5, FsInput.Delete("/d"), Ok)
            .Build());

    [Fact]
    public void Rename_seen_half_done_by_two_stats_is_rejected()
        => AssertRejected(H()
            .Ok(1, 0, 1, FsInput.CreateFile("/a"), Ok)
            .Ok(1, 2, 20, FsInput.Rename("/a", "/b"), Ok)
            .Ok(2, 3, 4, FsInput.GetStatus("/b"), FsOutput.Found(FsKind.File, FsInput.DefaultFileMode))
            .Ok(2, 5, 6, FsInput.GetStatus("/a"), FsOutput.Found(FsKind.File, FsInput.DefaultFileMode))
            .Build());

    [Fact]
    public void Overlapping_operations_with_a_valid_order_are_accepted()
        => AssertAccepted(H()
            .Ok(1, 0, 10, FsInput.Mkdir("/d"), Ok)
            .Ok(2, 1, 12, FsInput.CreateFile("/d/f"), Ok)
            .Ok(3, 2, 3, FsInput.List("/d"), FsOutput.Of(FsStatus.NotFound))
            .Ok(3, 13, 14, FsInput.List("/d"), FsOutput.Listing(["f"]))
            .Ok(1, 11, 15, FsInput.Rename("/d/f", "/d/g"), Ok)
            .Ok(3, 16, 17, FsInput.List("/d"), FsOutput.Listing(["g"]))
            .Build());

    [Fact]
    public void Unknown_create_that_happened_is_accepted()
        => AssertAccepted(H()
            .Unknown(1, 0, FsInput.Mkdir("/d"))
            .Ok(2, 5, 6, FsInput.Mkdir("/d"), FsOutput.Of(FsStatus.AlreadyExists))
            .Build());

    [Fact]
    public void Unknown_create_that_never_happened_is_accepted()
        => AssertAccepted(H()
            .Unknown(1, 0, FsInput.Mkdir("/d"))
            .Ok(2, 5, 6, FsInput.GetStatus("/d"), FsOutput.Of(FsStatus.NotFound))
            .Ok(2, 7, 8, FsInput.List("/"), FsOutput.Listing([]))
            .Build());

    [Fact]
    public void Cross_directory_rename_is_checked_in_one_partition()
    {
        var history = H()
            .Ok(1, 0, 1, FsInput.Mkdir("/a"), Ok)
            .Ok(1, 2, 3, FsInput.Mkdir("/b"), Ok)
            .Ok(1, 4, 5, FsInput.CreateFile("/a/f"), Ok)
            .Ok(1, 6, 7, FsInput.Rename("/a/f", "/b/f"), Ok)
            .Ok(2, 8, 9, FsInput.GetStatus("/b/f"), FsOutput.Found(FsKind.File, FsInput.DefaultFileMode))
            .Ok(2, 10, 11, FsInput.GetStatus("/a/f"), FsOutput.Of(FsStatus.NotFound))
            .Build();
        var result = Check(history);
        Assert.True(result.IsLinearizable, result.Explain());
        Assert.Single(result.Partitions);
    }

    [Fact]
    public void Initial_state_is_honoured()
    {
        var initial = FsModel.Apply(FsState.Empty, FsInput.Mkdir("/d")).Next;
        var history = H().Ok(1, 0, 1, FsInput.CreateFile("/d/f"), Ok).Build();
        Assert.True(Check(history, initial).IsLinearizable);
        Assert.False(Check(history).IsLinearizable);
    }
}
