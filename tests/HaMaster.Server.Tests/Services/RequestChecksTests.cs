using Grpc.Core;
using HaMaster.Protos.V1;
using HaMaster.Server.Services;

namespace HaMaster.Server.Tests.Services;

public sealed class RequestChecksTests
{
    [Theory]
    [InlineData("1n")]
    [InlineData("99999999H")]
    [InlineData("30S")]
    [InlineData("100m")]
    [InlineData("5u")]
    [InlineData("1M")]
    [InlineData("00000000S")]
    public void Spec_grpc_timeouts_are_valid(string value) => Assert.True(RequestHeaderCheckInterceptor.IsValidTimeout(value));

    [Theory]
    [InlineData("")]
    [InlineData("S")]
    [InlineData("10")]
    [InlineData("123456789S")]
    [InlineData("1s")]
    [InlineData("-1S")]
    [InlineData("1.5S")]
    [InlineData(" 1S")]
    [InlineData("１S")]
    [InlineData(null)]
    public void Other_grpc_timeouts_are_invalid(string? value) => Assert.False(RequestHeaderCheckInterceptor.IsValidTimeout(value));

    [Fact]
    public void Caller_identity_headers_follow_the_name_rules()
    {
        Assert.Null(CallerNames.CheckHeaders([]));
        Assert.Null(CallerNames.CheckHeaders(new Grpc.Core.Metadata { { "hamaster-user", "alice" }, { "hamaster-groups", "staff, dev" } }));
        Assert.Equal("caller user (header hamaster-user) '-x' must not start with '-'", CallerNames.CheckHeaders(new Grpc.Core.Metadata { { "hamaster-user", "-x" } }));
        Assert.StartsWith("caller group (header hamaster-groups) may only contain", CallerNames.CheckHeaders(new Grpc.Core.Metadata { { "hamaster-groups", "ok,b\u0001d" } }), StringComparison.Ordinal);
        Assert.Equal("caller groups (header hamaster-groups): 65 groups, at most 64", CallerNames.CheckHeaders(new Grpc.Core.Metadata { { "hamaster-groups", string.Join(',', Enumerable.Range(0, 65).Select(i => $"g{i}")) } }));
        Assert.StartsWith("caller groups (header hamaster-groups) is too long", CallerNames.CheckHeaders(new Grpc.Core.Metadata { { "hamaster-groups", new string(',', 10_000) } }), StringComparison.Ordinal);
        Assert.Null(CallerNames.CheckHeaders(new Grpc.Core.Metadata { { "hamaster-groups", string.Join(',', Enumerable.Range(0, 64).Select(i => $"g{i}")) } }));
    }

    [Fact]
    public void A_forwarded_identity_is_checked_like_the_headers()
    {
        Assert.Null(CallerNames.Check(CallerIdentity.Create("alice", ["staff"])));
        Assert.NotNull(CallerNames.Check(CallerIdentity.Create(new string('a', 1000), null)));
        Assert.NotNull(CallerNames.Check(CallerIdentity.Create("alice", ["st\naff"])));
    }

    [Fact]
    public void Sessions_need_a_valid_id_a_sequence_and_an_acknowledgement_below_it()
    {
        RequestChecks.CheckSession(null);
        RequestChecks.CheckSession(new ClientSession { ClientId = "c.1", Sequence = 2, AcknowledgedThrough = 1 });
        Assert.StartsWith("session.client_id", Refusal(() => RequestChecks.CheckSession(new ClientSession { ClientId = new string('c', 129), Sequence = 1 })), StringComparison.Ordinal);
        Assert.StartsWith("session.sequence", Refusal(() => RequestChecks.CheckSession(new ClientSession { ClientId = "c", Sequence = 0 })), StringComparison.Ordinal);
        Assert.StartsWith("session.sequence", Refusal(() => RequestChecks.CheckSession(new ClientSession { ClientId = "c", Sequence = (ulong)long.MaxValue + 1 })), StringComparison.Ordinal);
        Assert.StartsWith("session.acknowledged_through", Refusal(() => RequestChecks.CheckSession(new ClientSession { ClientId = "c", Sequence = 1, AcknowledgedThrough = 1 })), StringComparison.Ordinal);
    }

    [Fact]
    public void Each_request_names_the_field_it_refuses()
    {
        Assert.StartsWith("block_size_bytes", Refusal(() => RequestChecks.Check(new CreateFileRequest { Path = "/f", BlockSizeBytes = ulong.MaxValue })), StringComparison.Ordinal);
        Assert.StartsWith("ttl_ms", Refusal(() => RequestChecks.Check(new CreateFileRequest { Path = "/f", TtlMs = -1 })), StringComparison.Ordinal);
        Assert.StartsWith("mode", Refusal(() => RequestChecks.Check(new CreateDirectoryRequest { Path = "/d", Mode = 0x1000 })), StringComparison.Ordinal);
        Assert.StartsWith("ttl_ms", Refusal(() => RequestChecks.Check(new CreateDirectoryRequest { Path = "/d", TtlMs = 100L * 365 * 24 * 3600 * 1000 + 1 })), StringComparison.Ordinal);
        Assert.StartsWith("ttl_action 2", Refusal(() => RequestChecks.Check(new CreateDirectoryRequest { Path = "/d", TtlAction = (TtlAction)2 })), StringComparison.Ordinal);
        Assert.StartsWith("ttl_action -1", Refusal(() => RequestChecks.Check(new CreateFileRequest { Path = "/f", TtlAction = (TtlAction)(-1) })), StringComparison.Ordinal);
        Assert.StartsWith("ttl_action 9", Refusal(() => RequestChecks.Check(new SetAttributeRequest { Path = "/f", TtlAction = (TtlAction)9 })), StringComparison.Ordinal);
        Assert.StartsWith("length", Refusal(() => RequestChecks.Check(new CompleteFileRequest { Path = "/f", Length = (1UL << 60) + 1 })), StringComparison.Ordinal);
        Assert.StartsWith("owner", Refusal(() => RequestChecks.Check(new SetAttributeRequest { Path = "/f", Owner = "a\0" })), StringComparison.Ordinal);
        Assert.StartsWith("group", Refusal(() => RequestChecks.Check(new SetAttributeRequest { Path = "/f", Group = new string('g', 40) })), StringComparison.Ordinal);
        Assert.StartsWith("invalid dst_path", Refusal(() => RequestChecks.Check(new RenameRequest { SrcPath = "/a", DstPath = "b" })), StringComparison.Ordinal);
        Assert.StartsWith("tiers.used_bytes", Refusal(() => RequestChecks.Check(new RegisterWorkerRequest { Address = "w:1", Tiers = { new TierUsage { Tier = "MEM", CapacityBytes = 1, UsedBytes = 2 } } })), StringComparison.Ordinal);
        Assert.StartsWith("tiers:", Refusal(() => RequestChecks.Check(new WorkerHeartbeatRequest { WorkerId = 1, Tiers = { Enumerable.Range(0, 17).Select(i => new TierUsage { Tier = $"T{i}" }) } })), StringComparison.Ordinal);
        Assert.StartsWith("address", Refusal(() => RequestChecks.Check(new RegisterWorkerRequest { Address = "a b:1" })), StringComparison.Ordinal);
        Assert.StartsWith("medium", Refusal(() => RequestChecks.Check(new CommitBlockRequest { WorkerId = 1, BlockId = 1, Tier = "MEM", Medium = "x y" })), StringComparison.Ordinal);
        Assert.StartsWith("peer_address", Refusal(() => RequestChecks.Check(new AddMasterRequest { Id = 4, ClientAddress = "h:1", PeerAddress = "h" })), StringComparison.Ordinal);
        Assert.StartsWith("a file may have at most", Refusal(() => RequestChecks.CheckBlockCount(1 << 20, "/f")).Split(": ")[1], StringComparison.Ordinal);
        RequestChecks.CheckBlockCount((1 << 20) - 1, "/f");

        // The edges of the ranges pass.
        RequestChecks.Check(new CreateFileRequest { Path = "/f", BlockSizeBytes = 1UL << 40, TtlMs = 100L * 365 * 24 * 3600 * 1000, Mode = 0xFFF });
        RequestChecks.Check(new CompleteFileRequest { Path = "/f", Length = 1UL << 60 });
        RequestChecks.Check(new SetAttributeRequest { Path = "/d", TtlMs = 1, TtlAction = TtlAction.Free, Recursive = true });
    }

    private static string Refusal(Action check)
    {
        var error = Assert.Throws<RpcException>(check);
        Assert.Equal(StatusCode.InvalidArgument, error.StatusCode);
        return error.Status.Detail;
    }
}
