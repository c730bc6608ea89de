using HaMaster.Chaos.Core.History;
using HaMaster.Chaos.Core.Models;
using HaMaster.Chaos.Workload;
using Grpc.Core;
using HaMaster.Protos.V1;
using FileInfo = HaMaster.Protos.V1.FileInfo;

namespace HaMaster.Chaos.Tests;

/// <summary>The mapping of the master's answers onto the model's: refusals are answers, transport failures are unknown (writes) or failed (reads).</summary>
public sealed class FsAnswersTests
{
    [Theory]
    [InlineData(FsOpKind.CreateFile, StatusCode.AlreadyExists, "/t0/a: already exists", FsStatus.AlreadyExists)]
    [InlineData(FsOpKind.CreateFile, StatusCode.NotFound, "/t0/a/x: parent /t0/a does not exist", FsStatus.ParentMissing)]
    [InlineData(FsOpKind.Mkdir, StatusCode.FailedPrecondition, "/t0/a/x: parent /t0/a is not a directory", FsStatus.NotADirectory)]
    [InlineData(FsOpKind.Delete, StatusCode.FailedPrecondition, "/t0/a: directory not empty", FsStatus.NotEmpty)]
    [InlineData(FsOpKind.Delete, StatusCode.FailedPrecondition, "/t0/a/x: parent /t0/a is not a directory", FsStatus.NotFound)]
    [InlineData(FsOpKind.Rename, StatusCode.AlreadyExists, "/t0/b: already exists", FsStatus.DestinationExists)]
    [InlineData(FsOpKind.Rename, StatusCode.NotFound, "/t0/a: does not exist", FsStatus.NotFound)]
    [InlineData(FsOpKind.GetStatus, StatusCode.FailedPrecondition, "/t0/a/x: parent /t0/a is not a directory", FsStatus.NotFound)]
    [InlineData(FsOpKind.SetMode, StatusCode.NotFound, "/t0/c: does not exist", FsStatus.NotFound)]
    public void Refusals_map_to_model_answers(FsOpKind kind, StatusCode status, string detail, FsStatus expected)
    {
        var result = FsAnswers.FromStatus(Input(kind), status, detail);
        Assert.Equal(OpOutcome.Ok, result.Outcome);
        Assert.Equal(FsOutput.Of(expected), result.Output);
    }

    [Theory]
    [InlineData(StatusCode.Unavailable)]
    [InlineData(StatusCode.DeadlineExceeded)]
    [InlineData(StatusCode.Internal)]
    public void Transport_failures_are_unknown_for_writes_and_failed_for_reads(StatusCode status)
    {
        Assert.Equal(OpOutcome.Unknown, FsAnswers.FromStatus(Input(FsOpKind.CreateFile), status, "x").Outcome);
        Assert.Equal(OpOutcome.Unknown, FsAnswers.FromStatus(Input(FsOpKind.Rename), status, "x").Outcome);
        Assert.Equal(OpOutcome.Failed, FsAnswers.FromStatus(Input(FsOpKind.List), status, "x").Outcome);
        Assert.Equal(OpOutcome.Failed, FsAnswers.FromStatus(Input(FsOpKind.GetStatus), status, "x").Outcome);
    }

    [Fact]
    public void Listing_a_file_is_not_a_directory_and_listing_a_directory_gives_sorted_names()
    {
        var file = new ListStatusResponse { Entries = { new FileInfo { Name = "a", Path = "/t0/a", Kind = InodeKind.File } } };
        Assert.Equal(FsOutput.Of(FsStatus.NotADirectory), FsAnswers.FromListing("/t0/a", file));

        var directory = new ListStatusResponse
        {
            Entries =
            {
                new FileInfo { Name = "b", Path = "/t0/b", Kind = InodeKind.File },
                new FileInfo { Name = "a", Path = "/t0/a", Kind = InodeKind.Directory },
            },
        };
        Assert.Equal(FsOutput.Listing(["a", "b"]), FsAnswers.FromListing("/t0", directory));
        Assert.Equal(FsOutput.Found(FsKind.Directory, 493), FsAnswers.FromInfo(new FileInfo { Kind = InodeKind.Directory, Mode = 493 }));
    }

    [Fact]
    public void A_refused_connection_means_the_request_was_never_sent()
    {
        // As Grpc.Net.Client reports it: the transport failure is the status's DebugException.
        var refused = new RpcException(new Status(StatusCode.Unavailable, "connect failed",
            new HttpRequestException("connect", new System.Net.Sockets.SocketException((int)System.Net.Sockets.SocketError.ConnectionRefused))));
        Assert.True(FsAnswers.NeverSent(refused));
        Assert.False(FsAnswers.NeverSent(new RpcException(new Status(StatusCode.Unavailable, "reset"))));
    }

    private static FsInput Input(FsOpKind kind) => kind switch
    {
        FsOpKind.CreateFile => FsInput.CreateFile("/t0/a"),
        FsOpKind.Mkdir => FsInput.Mkdir("/t0/a/x"),
        FsOpKind.Delete => FsInput.Delete("/t0/a"),
        FsOpKind.Rename => FsInput.Rename("/t0/a", "/t0/b"),
        FsOpKind.SetMode => FsInput.SetMode("/t0/c", 420),
        FsOpKind.GetStatus => FsInput.GetStatus("/t0/a/x"),
        _ => FsInput.List("/t0"),
    };
}
