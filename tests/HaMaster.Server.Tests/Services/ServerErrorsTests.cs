using Grpc.Core;
using HaMaster.Journal;
using HaMaster.Protos.V1;
using HaMaster.Server.Raft;
using HaMaster.Server.Services;
using FileInfo = HaMaster.Protos.V1.FileInfo;

namespace HaMaster.Server.Tests.Services;

public sealed class ServerErrorsTests
{
    public static TheoryData<Exception, StatusCode, string> Mappings => new()
    {
        { new NotLeaderException(2, "not the leader; leader is 2"), StatusCode.Unavailable, "not the leader; leader is 2" },
        { new NotLeaderException(0, "election under way"), StatusCode.Unavailable, "election under way" },
        { new ProposalLostException("leadership changed"), StatusCode.Unavailable, "leadership changed" },
        { new ClusterPreconditionException("another membership change is still in progress"), StatusCode.FailedPrecondition, "another membership change is still in progress" },
        // Framework exception text (file names, parameter names) stays in the master's log.
        { new JournalFailedException("disk full at /data/journal/000001.log", null), StatusCode.Unavailable, "this master cannot write its journal; use another master" },
        { new IOException("read error /data/rocks/000012.sst"), StatusCode.Unavailable, "storage error on this master (see its log); use another master" },
        { new FileNotFoundException("gone", "/data/x"), StatusCode.Unavailable, "storage error on this master (see its log); use another master" },
        { new ArgumentException("bad path"), StatusCode.Internal, "internal error on the master (see its log)" },
        { new ArgumentOutOfRangeException("delay", "The value needs to be either -1 or..."), StatusCode.Internal, "internal error on the master (see its log)" },
        { new TimeoutException("too slow"), StatusCode.DeadlineExceeded, "the call timed out on the master" },
        { new InvalidOperationException("boom"), StatusCode.Internal, "internal error on the master (see its log)" },
        { new NullReferenceException("npe"), StatusCode.Internal, "internal error on the master (see its log)" },
    };

    [Theory]
    [MemberData(nameof(Mappings))]
    public void Exception_maps_to_status_and_detail(Exception e, StatusCode code, string detail)
    {
        var g = ServerErrors.ToRpc(e);
        Assert.Equal(code, g.StatusCode);
        Assert.Equal(detail, g.Status.Detail);
    }

    [Fact]
    public void Grpc_exception_passes_through_unchanged()
    {
        var original = new RpcException(new Status(StatusCode.PermissionDenied, "no"));
        Assert.Same(original, ServerErrors.ToRpc(original));
    }

    [Fact]
    public void Journal_failure_is_not_reported_as_a_plain_storage_error()
    {
        // JournalFailedException derives from IOException: its specific arm must come first.
        Assert.True(typeof(IOException).IsAssignableFrom(typeof(JournalFailedException)));
        Assert.StartsWith("this master cannot write its journal", ServerErrors.ToRpc(new JournalFailedException("x", new IOException())).Status.Detail, StringComparison.Ordinal);
        Assert.True(ServerErrors.ShouldLog(new JournalFailedException("x", new IOException())));
        Assert.True(ServerErrors.ShouldLog(new ArgumentException("x")));
        Assert.False(ServerErrors.ShouldLog(new NotLeaderException(2, "x")));
    }

    [Theory]
    [InlineData(MetadataStatus.Ok, StatusCode.OK)]
    [InlineData(MetadataStatus.InvalidArgument, StatusCode.InvalidArgument)]
    [InlineData(MetadataStatus.NotFound, StatusCode.NotFound)]
    [InlineData(MetadataStatus.AlreadyExists, StatusCode.AlreadyExists)]
    [InlineData(MetadataStatus.FailedPrecondition, StatusCode.FailedPrecondition)]
    [InlineData(MetadataStatus.PermissionDenied, StatusCode.PermissionDenied)]
    [InlineData((MetadataStatus)999, StatusCode.Internal)]
    public void Metadata_status_maps_to_status_code(MetadataStatus status, StatusCode code) =>
        Assert.Equal(code, ServerErrors.ToStatusCode(status));

    [Fact]
    public void Every_defined_metadata_status_has_a_specific_mapping()
    {
        foreach (var status in Enum.GetValues<MetadataStatus>())
        {
            Assert.True(ServerErrors.ToStatusCode(status) != StatusCode.Internal, $"MetadataStatus.{status} falls through to Internal");
        }
    }

    [Fact]
    public void EnsureOk_returns_ok_results_and_throws_the_status_of_failed_ones()
    {
        var ok = new CommandResult { Status = MetadataStatus.Ok };
        Assert.Same(ok, ServerErrors.EnsureOk(ok));
        var failed = new CommandResult { Status = MetadataStatus.NotFound, Message = "/a/b does not exist" };
        var e = Assert.Throws<RpcException>(() => ServerErrors.EnsureOk(failed));
        Assert.Equal(StatusCode.NotFound, e.StatusCode);
        Assert.Equal("/a/b does not exist", e.Status.Detail);
    }

    [Fact]
    public void InvalidPath_names_the_field_and_the_problem()
    {
        var e = ServerErrors.InvalidPath("path", "must be absolute");
        Assert.Equal(StatusCode.InvalidArgument, e.StatusCode);
        Assert.Equal("invalid path: must be absolute", e.Status.Detail);
    }

    [Fact]
    public void A_failed_read_becomes_its_status_and_an_ok_read_its_value()
    {
        var failed = Assert.Throws<RpcException>(() => ServerErrors.Unwrap(HaMaster.Metadata.MetadataResult.Fail<FileInfo>(MetadataStatus.NotFound, "/x: does not exist")));
        Assert.Equal(StatusCode.NotFound, failed.StatusCode);
        Assert.Equal("/x: does not exist", failed.Status.Detail);

        var info = new FileInfo { Path = "/y" };
        Assert.Same(info, ServerErrors.Unwrap(HaMaster.Metadata.MetadataResult.Ok(info)));
    }

    [Fact]
    public void The_leaders_verdict_keeps_its_status_and_drops_its_trailers()
    {
        var leader = new RpcException(new Status(StatusCode.AlreadyExists, "/a: already exists"), new Grpc.Core.Metadata { { "hamaster-leader", "127.0.0.1:1" } });

        var passed = ServerErrors.FromLeader(leader);

        Assert.Equal(StatusCode.AlreadyExists, passed.StatusCode);
        Assert.Equal("/a: already exists", passed.Status.Detail);
        Assert.Empty(passed.Trailers);
    }
}
