using HaMaster.Chaos.Core.Linearizability;
using HaMaster.Chaos.Core.Models;
using HaMaster.Chaos.Workload;

namespace HaMaster.Chaos.Tests;

/// <summary>The generated workload stays inside what <see cref="FsAnswers"/> can map unambiguously, and the harness's pipeline rejects broken histories.</summary>
public sealed class PathSpaceTests
{
    [Fact]
    public void Generated_operations_stay_in_one_top_level_directory_with_safe_renames()
    {
        var space = new PathSpace(4);
        var random = new Random(5);
        for (var i = 0; i < 5000; i++)
        {
            var op = space.Next(random, readHeavy: i % 2 == 0);
            var top = "/" + FsPath.TopLevel(op.Path);
            Assert.Contains(top, space.TopLevel);
            Assert.True(op.Kind == FsOpKind.List || op.Path != top, $"only listings touch the top-level directory itself: {op}");
            Assert.True(op.Path.Count(c => c == '/') <= 3, op.ToString());
            if (op.Kind == FsOpKind.Rename)
            {
                Assert.Equal(top, FsPath.Parent(op.Destination!));
                Assert.NotEqual(op.Path, op.Destination);
                Assert.False(FsPath.IsWithin(op.Destination!, op.Path), op.ToString());
            }
        }
    }

    [Fact]
    public void The_same_seed_gives_the_same_workload()
    {
        var space = new PathSpace(8);
        var (a, b) = (new Random(42), new Random(42));
        Assert.Equal(Enumerable.Range(0, 100).Select(_ => space.Next(a, false)), Enumerable.Range(0, 100).Select(_ => space.Next(b, false)));
    }

    [Fact]
    public void A_lost_acknowledged_create_and_a_stale_final_listing_are_rejected_from_the_initial_state()
    {
        var space = new PathSpace(2);
        var checker = new LinearizabilityChecker<FsState, FsInput, FsOutput>(new FsModel(space.InitialState()));
        Operation<FsInput, FsOutput>[] lost =
        [
            Operation.Completed(1, FsInput.CreateFile("/t0/a"), 0, FsOutput.Ok, 10),
            Operation.Completed(2, FsInput.GetStatus("/t0/a"), 20, FsOutput.Of(FsStatus.NotFound), 30),
        ];
        Assert.Equal(LinearizabilityVerdict.NotLinearizable, checker.Check(lost).Verdict);

        Operation<FsInput, FsOutput>[] stale =
        [
            Operation.Completed(1, FsInput.Mkdir("/t1/b"), 0, FsOutput.Ok, 10),
            Operation.Unknown<FsInput, FsOutput>(3, FsInput.Delete("/t1/b"), 5),
            Operation.Completed(2, FsInput.List("/t1"), 20, FsOutput.Listing(["b", "c"]), 30),
        ];
        Assert.Equal(LinearizabilityVerdict.NotLinearizable, checker.Check(stale).Verdict);

        Operation<FsInput, FsOutput>[] fine =
        [
            Operation.Completed(1, FsInput.Mkdir("/t1/b"), 0, FsOutput.Ok, 10),
            Operation.Unknown<FsInput, FsOutput>(3, FsInput.Delete("/t1/b"), 5),
            Operation.Completed(2, FsInput.List("/t1"), 20, FsOutput.Listing([]), 30),
        ];
        Assert.Equal(LinearizabilityVerdict.Linearizable, checker.Check(fine).Verdict);
    }

    [Theory]
    [InlineData("90s", 90)]
    [InlineData("30m", 1800)]
    [InlineData("2h", 7200)]
    [InlineData("1500ms", 1.5)]
    [InlineData("45", 45)]
    public void Durations_parse(string text, double seconds) => Assert.Equal(TimeSpan.FromSeconds(seconds), ChaosOptions.ParseDuration(text));
}
