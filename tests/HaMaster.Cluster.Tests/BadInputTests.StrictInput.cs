using System.Text;
using Google.Protobuf;
using Grpc.Core;
using HaMaster.Cluster.Tests.Infrastructure;
using HaMaster.Protos.V1;

namespace HaMaster.Cluster.Tests;

/// <summary>
/// Input that parses but breaks the documented limits (docs/api-limits.md): refused with
/// INVALID_ARGUMENT naming the field, on the leader and on a follower (which forwards the write
/// to the leader, where it is checked), and nothing changes.
/// </summary>
public sealed partial class BadInputTests
{
    private const string CreateDirectoryPath = "/hamaster.v1.FileSystemMaster/CreateDirectory";
    private const string SetAttributePath = "/hamaster.v1.FileSystemMaster/SetAttribute";

    [Fact]
    public async Task Invalid_utf8_in_a_string_field_is_invalid_argument_naming_it_and_creates_nothing()
    {
        var (leader, followers) = await Cluster.RolesAsync();
        foreach (var id in new[] { leader, followers[0] })
        {
            var master = Cluster.Master(id);
            var root = $"/strict-utf8-{id}-{Guid.NewGuid():N}";
            foreach (var bad in new byte[][] { [0xFF], [0xFE], [0xC3], [0xED, 0xA0, 0x80] })
            {
                // CreateDirectory { path = root + "/bad" + bad, recursive = true }
                var path = Encoding.UTF8.GetBytes(root + "/bad").Concat(bad).ToArray();
                var refused = await SendRawAsync(master.ClientAddress, CreateDirectoryPath, Frame(Wire().Bytes(1, path).Bool(2, true).Build()));
                Assert.True(refused.Status == StatusCode.InvalidArgument, $"{Convert.ToHexString(bad)} on {id}: {refused.Status} {refused.Message}");
                Assert.Equal("invalid path: not valid UTF-8", refused.Message);
            }

            // A nested field: session.client_id.
            var session = Wire().Bytes(1, [0x63, 0xFF]).Varint(2, 1).Build();
            var nested = await SendRawAsync(master.ClientAddress, CreateDirectoryPath, Frame(Wire().Bytes(1, Encoding.UTF8.GetBytes(root)).Bytes(15, session).Build()));
            Assert.Equal(StatusCode.InvalidArgument, nested.Status);
            Assert.Equal("invalid session.client_id: not valid UTF-8", nested.Message);

            // Reads too: U+FFFD would have named an existing file.
            var read = await SendRawAsync(master.ClientAddress, GetStatusPath, Frame(Wire().Bytes(1, [0x2F, 0xFF]).Build()));
            Assert.Equal(StatusCode.InvalidArgument, read.Status);

            await AssertAbsentAsync(root);
        }

        // U+FFFD sent as valid UTF-8 is an ordinary character, and stays one name.
        var literal = $"/strict-utf8-literal-{Guid.NewGuid():N}/x\uFFFD";
        await Expect.RetryUnavailableAsync(() => Cluster.RawClient(leader).CreateDirectoryAsync(literal, recursive: true).AsTask());
        Assert.Equal(literal, (await Cluster.RawClient(leader).GetStatusAsync(literal)).Path);
    }

    [Fact]
    public async Task Invalid_utf8_owner_in_set_attribute_is_refused_and_the_owner_is_unchanged()
    {
        var (leader, followers) = await Cluster.RolesAsync();
        var path = $"/strict-owner-utf8-{Guid.NewGuid():N}";
        var before = await Expect.RetryUnavailableAsync(() => Cluster.RawClient(leader).CreateFileAsync(path).AsTask());
        foreach (var id in new[] { leader, followers[0] })
        {
            // SetAttribute { path, owner = "bad\xff" } and { path, group = "bad\xfe" }
            var owner = await SendRawAsync(Cluster.Master(id).ClientAddress, SetAttributePath, Frame(Wire().Bytes(1, Encoding.UTF8.GetBytes(path)).Bytes(2, [0x62, 0x61, 0x64, 0xFF]).Build()));
            Assert.Equal(StatusCode.InvalidArgument, owner.Status);
            Assert.Equal("invalid owner: not valid UTF-8", owner.Message);
            var group = await SendRawAsync(Cluster.Master(id).ClientAddress, SetAttributePath, Frame(Wire().Bytes(1, Encoding.UTF8.GetBytes(path)).Bytes(3, [0x62, 0x61, 0x64, 0xFE]).Build()));
            Assert.Equal(StatusCode.InvalidArgument, group.Status);
            Assert.Equal("invalid group: not valid UTF-8", group.Message);
        }

        var after = await Cluster.RawClient(leader).GetStatusAsync(path);
        Assert.Equal(before.Owner, after.Owner);
        Assert.Equal(before.Group, after.Group);
    }

    [Fact]
    public async Task Owner_and_group_names_outside_the_posix_rules_are_refused_and_change_nothing()
    {
        var (leader, followers) = await Cluster.RolesAsync();
        var directory = $"/strict-owner-{Guid.NewGuid():N}";
        await Expect.RetryUnavailableAsync(() => Cluster.RawClient(leader).CreateDirectoryAsync(directory + "/child", recursive: true).AsTask());
        var before = await Cluster.RawClient(leader).GetStatusAsync(directory);
        var badNames = new[] { new string('a', 10_000), new string('a', 33), "a\0b", "a\r\nb", "-root", "a b", "a/b", "a:b", "é", "$", "" };
        foreach (var id in new[] { leader, followers[0] })
        {
            var files = Cluster.Channel(id).FileSystem;
            foreach (var name in badNames)
            {
                var owner = await Expect.GrpcStatusAsync(StatusCode.InvalidArgument, () => files.SetAttributeAsync(
                    new SetAttributeRequest { Path = directory, Owner = name, Recursive = true }, deadline: DateTime.UtcNow.AddSeconds(20)).ResponseAsync);
                Assert.StartsWith("owner ", owner.Status.Detail, StringComparison.Ordinal);
                var group = await Expect.GrpcStatusAsync(StatusCode.InvalidArgument, () => files.SetAttributeAsync(
                    new SetAttributeRequest { Path = directory, Group = name, Recursive = true }, deadline: DateTime.UtcNow.AddSeconds(20)).ResponseAsync);
                Assert.StartsWith("group ", group.Status.Detail, StringComparison.Ordinal);
            }
        }

        var after = await Cluster.RawClient(leader).GetStatusAsync(directory);
        Assert.Equal(before.Owner, after.Owner);
        Assert.Equal(before.Group, after.Group);
        Assert.Equal(before.ModificationTimeMs, after.ModificationTimeMs);

        // The rules' edges are accepted: 32 characters, '.', '_', '-' inside, a trailing '$'.
        var longest = "a" + new string('b', 31);
        var set = await Expect.RetryUnavailableAsync(() => Cluster.RawClient(followers[0]).SetAttributeAsync(new SetAttributeRequest { Path = directory, Owner = longest, Group = "svc_1.x-y$" }).AsTask());
        Assert.Equal(longest, set.Info.Owner);
        Assert.Equal("svc_1.x-y$", set.Info.Group);
    }

    [Fact]
    public async Task Numbers_outside_their_documented_ranges_are_refused_naming_the_field_and_create_nothing()
    {
        var (leader, followers) = await Cluster.RolesAsync();
        foreach (var id in new[] { leader, followers[0] })
        {
            var files = Cluster.Channel(id).FileSystem;
            var blocks = Cluster.Channel(id).Blocks;
            var deadline = () => (DateTime?)DateTime.UtcNow.AddSeconds(20);
            var root = $"/strict-numbers-{id}-{Guid.NewGuid():N}";

            foreach (var size in new[] { ulong.MaxValue, (1UL << 40) + 1, 1023UL, 1UL })
            {
                var error = await Expect.GrpcStatusAsync(StatusCode.InvalidArgument, () => files.CreateFileAsync(new CreateFileRequest { Path = root + "/f", Recursive = true, BlockSizeBytes = size }, deadline: deadline()).ResponseAsync);
                Assert.StartsWith("block_size_bytes ", error.Status.Detail, StringComparison.Ordinal);
            }

            foreach (var ttl in new[] { -1L, long.MaxValue })
            {
                var error = await Expect.GrpcStatusAsync(StatusCode.InvalidArgument, () => files.CreateFileAsync(new CreateFileRequest { Path = root + "/f", Recursive = true, TtlMs = ttl }, deadline: deadline()).ResponseAsync);
                Assert.StartsWith("ttl_ms ", error.Status.Detail, StringComparison.Ordinal);
            }

            var mode = await Expect.GrpcStatusAsync(StatusCode.InvalidArgument, () => files.CreateDirectoryAsync(new CreateDirectoryRequest { Path = root, Mode = 0x1000 }, deadline: deadline()).ResponseAsync);
            Assert.StartsWith("mode 10000 ", mode.Status.Detail, StringComparison.Ordinal);
            var length = await Expect.GrpcStatusAsync(StatusCode.InvalidArgument, () => files.CompleteFileAsync(new CompleteFileRequest { Path = root + "/f", Length = ulong.MaxValue }, deadline: deadline()).ResponseAsync);
            Assert.StartsWith("length ", length.Status.Detail, StringComparison.Ordinal);

            var commit = await Expect.GrpcStatusAsync(StatusCode.InvalidArgument, () => blocks.CommitBlockAsync(new CommitBlockRequest { WorkerId = 1, BlockId = 1, Length = ulong.MaxValue, Tier = "MEM" }, deadline: deadline()).ResponseAsync);
            Assert.StartsWith("length ", commit.Status.Detail, StringComparison.Ordinal);
            var address = $"strict-worker-{id}:7000";
            var tier = await Expect.GrpcStatusAsync(StatusCode.InvalidArgument, () => blocks.RegisterWorkerAsync(new RegisterWorkerRequest { Address = address, Tiers = { new TierUsage { Tier = "MEM\r\n", CapacityBytes = 1 } } }, deadline: deadline()).ResponseAsync);
            Assert.StartsWith("tiers.tier ", tier.Status.Detail, StringComparison.Ordinal);
            var capacity = await Expect.GrpcStatusAsync(StatusCode.InvalidArgument, () => blocks.RegisterWorkerAsync(new RegisterWorkerRequest { Address = address, Tiers = { new TierUsage { Tier = "MEM", CapacityBytes = ulong.MaxValue } } }, deadline: deadline()).ResponseAsync);
            Assert.StartsWith("tiers.capacity_bytes ", capacity.Status.Detail, StringComparison.Ordinal);
            var badAddress = await Expect.GrpcStatusAsync(StatusCode.InvalidArgument, () => blocks.RegisterWorkerAsync(new RegisterWorkerRequest { Address = new string('h', 300) + ":1" }, deadline: deadline()).ResponseAsync);
            Assert.StartsWith("address ", badAddress.Status.Detail, StringComparison.Ordinal);

            var consistency = await Expect.GrpcStatusAsync(StatusCode.InvalidArgument, () => files.GetStatusAsync(new GetStatusRequest { Path = "/", Consistency = (Consistency)7 }, deadline: deadline()).ResponseAsync);
            Assert.StartsWith("consistency 7 ", consistency.Status.Detail, StringComparison.Ordinal);

            await AssertAbsentAsync(root);
            var workers = await Cluster.Channel(leader).Blocks.GetWorkerInfoListAsync(new GetWorkerInfoListRequest(), deadline: deadline());
            Assert.DoesNotContain(workers.Workers, w => w.Address == address);
        }
    }

    [Fact]
    public async Task Client_ids_and_sequences_outside_the_session_rules_are_refused_and_create_nothing()
    {
        var (leader, followers) = await Cluster.RolesAsync();
        foreach (var id in new[] { leader, followers[0] })
        {
            var files = Cluster.Channel(id).FileSystem;
            var path = $"/strict-session-{id}-{Guid.NewGuid():N}";
            var cases = new (ClientSession Session, string Field)[]
            {
                (new() { ClientId = new string('c', 129), Sequence = 1 }, "session.client_id "),
                (new() { ClientId = new string('c', 256 << 10), Sequence = 1 }, "session.client_id "),
                (new() { ClientId = "has space", Sequence = 1 }, "session.client_id "),
                (new() { ClientId = "nul\0", Sequence = 1 }, "session.client_id "),
                (new() { ClientId = string.Empty, Sequence = 1 }, "session.client_id "),
                (new() { ClientId = "c", Sequence = 0 }, "session.sequence "),
                (new() { ClientId = "c", Sequence = ulong.MaxValue }, "session.sequence "),
                (new() { ClientId = "c", Sequence = 5, AcknowledgedThrough = 5 }, "session.acknowledged_through "),
            };
            foreach (var (session, field) in cases)
            {
                var error = await Expect.GrpcStatusAsync(StatusCode.InvalidArgument, () => files.CreateDirectoryAsync(new CreateDirectoryRequest { Path = path, Session = session }, deadline: DateTime.UtcNow.AddSeconds(20)).ResponseAsync);
                Assert.StartsWith(field, error.Status.Detail, StringComparison.Ordinal);
            }

            await AssertAbsentAsync(path);
        }
    }

    [Fact]
    public async Task Identity_headers_outside_the_name_rules_are_refused_naming_the_header()
    {
        var (leader, followers) = await Cluster.RolesAsync();
        foreach (var id in new[] { leader, followers[0] })
        {
            var files = Cluster.Channel(id).FileSystem;
            var path = $"/strict-identity-{id}-{Guid.NewGuid():N}";
            var cases = new (string Header, string Value)[]
            {
                ("hamaster-user", new string('u', 10_000)),
                ("hamaster-user", "-root"),
                ("hamaster-user", "al ice"),
                ("hamaster-groups", string.Join(',', Enumerable.Range(0, 65).Select(i => $"g{i}"))),
                ("hamaster-groups", "staff,bad group"),
                ("hamaster-groups", new string('g', 5_000)),
            };
            foreach (var (header, value) in cases)
            {
                var error = await Expect.GrpcStatusAsync(StatusCode.InvalidArgument, () => files.CreateDirectoryAsync(
                    new CreateDirectoryRequest { Path = path }, new Grpc.Core.Metadata { { header, value } }, DateTime.UtcNow.AddSeconds(20)).ResponseAsync);
                Assert.Contains($"header {header}", error.Status.Detail, StringComparison.Ordinal);
            }

            await AssertAbsentAsync(path);
        }
    }

    [Fact]
    public async Task A_write_forwarded_by_a_follower_with_the_largest_grpc_timeout_is_served()
    {
        var (_, followers) = await Cluster.RolesAsync();
        var follower = Cluster.Master(followers[0]);
        var path = $"/strict-timeout-{Guid.NewGuid():N}";
        var created = await SendRawAsync(follower.ClientAddress, CreateDirectoryPath, Frame(new CreateDirectoryRequest { Path = path }.ToByteArray()), ("grpc-timeout", "99999999H"));
        Assert.True(created.Status == StatusCode.OK, $"{created.Status}: {created.Message}");
        Assert.Equal(path, CreateDirectoryResponse.Parser.ParseFrom(created.Body.AsSpan(5)).Info.Path);
    }

    [Fact]
    public async Task A_forwarded_call_with_any_timeout_ms_is_served_on_the_leader_and_bad_identities_refused()
    {
        // What a follower sends the leader (RaftPeer/Forward); a timeout over ~49 days used to
        // reach CancellationTokenSource.CancelAfter and come back as a .NET parameter message.
        var (leader, _) = await Cluster.RolesAsync();
        var peer = Cluster.Master(leader).PeerAddress;
        const string forwardPath = "/hamaster.v1.RaftPeer/Forward";
        foreach (var timeoutMs in new[] { long.MaxValue, 50L * 24 * 3600 * 1000 })
        {
            var path = $"/strict-forward-{Guid.NewGuid():N}";
            var forward = new ForwardRequest { Method = CreateDirectoryPath, Request = new CreateDirectoryRequest { Path = path }.ToByteString(), User = "alice", TimeoutMs = timeoutMs };
            var answer = await SendRawAsync(peer, forwardPath, Frame(forward.ToByteArray()));
            Assert.True(answer.Status == StatusCode.OK, $"timeout_ms {timeoutMs}: {answer.Status} {answer.Message}");
            var created = CreateDirectoryResponse.Parser.ParseFrom(ForwardResponse.Parser.ParseFrom(answer.Body.AsSpan(5)).Response);
            Assert.Equal(path, created.Info.Path);
            Assert.Equal("alice", created.Info.Owner);
        }

        // The identity a follower forwards is checked again on the leader.
        var refusedPath = $"/strict-forward-{Guid.NewGuid():N}";
        var badUser = new ForwardRequest { Method = CreateDirectoryPath, Request = new CreateDirectoryRequest { Path = refusedPath }.ToByteString(), User = new string('u', 1000) };
        var refused = await SendRawAsync(peer, forwardPath, Frame(badUser.ToByteArray()));
        Assert.Equal(StatusCode.InvalidArgument, refused.Status);
        Assert.StartsWith("caller user", refused.Message, StringComparison.Ordinal);
        await AssertAbsentAsync(refusedPath);
    }

    [Theory]
    [InlineData("a\0b")]
    [InlineData("a\rb")]
    [InlineData("a\nb")]
    public async Task Header_values_with_nul_cr_or_lf_are_rejected_by_the_http2_layer(string value)
    {
        var master = Cluster.Masters[0];
        var path = $"/strict-header-{Guid.NewGuid():N}";
        var body = Frame(new CreateDirectoryRequest { Path = path }.ToByteArray());

        // The same raw client with a clean value is answered (so a refusal below is the value's doing).
        var clean = await RawHttp2.SendAsync(master.ClientAddress, GetStatusPath, Frame(new GetStatusRequest { Path = "/", Consistency = Consistency.Stale }.ToByteArray()), ("hamaster-user", "ab"));
        Assert.Equal(RawHttp2.Outcome.ResponseHeaders, clean.Outcome);

        // RFC 9113 8.2.1: a request with such a field value is malformed; Kestrel resets the stream
        // (or the connection) with PROTOCOL_ERROR (1) before any handler runs.
        foreach (var header in new[] { "hamaster-user", "x-custom" })
        {
            var (outcome, code) = await RawHttp2.SendAsync(master.ClientAddress, CreateDirectoryPath, body, (header, value));
            Assert.True(outcome is RawHttp2.Outcome.StreamReset or RawHttp2.Outcome.ConnectionError, $"{header}: {outcome} {code}");
            Assert.Equal(1u, code);
        }

        await AssertAbsentAsync(path);
        await AssertServingAsync(master);
    }

    /// <summary>Asserts that <paramref name="path"/> does not exist, read linearizably on the leader.</summary>
    private async Task AssertAbsentAsync(string path)
    {
        var leader = await Cluster.WaitForLeaderAsync();
        await Expect.StatusAsync(StatusCode.NotFound, () => Expect.RetryUnavailableAsync(() => Cluster.RawClient(leader).GetStatusAsync(path).AsTask()));
    }

    private static WireMessage Wire() => new();

    /// <summary>Protobuf wire bytes by hand, so a string field can carry bytes that are not UTF-8.</summary>
    private sealed class WireMessage
    {
        private readonly MemoryStream _bytes = new();
        private readonly CodedOutputStream _output;

        public WireMessage() => _output = new CodedOutputStream(_bytes);

        public WireMessage Bytes(int field, byte[] value)
        {
            _output.WriteTag(field, WireFormat.WireType.LengthDelimited);
            _output.WriteBytes(ByteString.CopyFrom(value));
            return this;
        }

        public WireMessage Varint(int field, ulong value)
        {
            _output.WriteTag(field, WireFormat.WireType.Varint);
            _output.WriteUInt64(value);
            return this;
        }

        public WireMessage Bool(int field, bool value) => Varint(field, value ? 1UL : 0UL);

        public byte[] Build()
        {
            _output.Flush();
            return _bytes.ToArray();
        }
    }
}
