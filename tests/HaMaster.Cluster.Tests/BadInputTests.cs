using System.Buffers.Binary;
using System.Net;
using System.Net.Http.Headers;
using Google.Protobuf;
using Grpc.Core;
using HaMaster.Cluster.Tests.Infrastructure;
using HaMaster.Protos.V1;

namespace HaMaster.Cluster.Tests;

/// <summary>
/// Bad input on the real server's client and peer ports gets a clear status and reason, and the
/// master keeps serving. The raw cases are hand-made HTTP/2 requests (what a broken or foreign
/// client might send), so they test our services on Kestrel and grpc-dotnet, not a client library.
/// </summary>
[Collection(SharedClusterCollection.Name)]
public sealed partial class BadInputTests(SharedClusterFixture fixture) : IDisposable
{
    private const string GetStatusPath = "/hamaster.v1.FileSystemMaster/GetStatus";
    private const string LocalStatusPath = "/hamaster.v1.RaftPeer/GetLocalStatus";
    private readonly HttpClient _http = new(new SocketsHttpHandler()) { Timeout = TimeSpan.FromSeconds(30) };

    private TestCluster Cluster => fixture.Cluster;

    public void Dispose() => _http.Dispose();

    [Fact]
    public async Task Invalid_paths_are_invalid_argument_with_the_reason_on_leader_and_followers()
    {
        foreach (var master in Cluster.Masters)
        {
            var client = Cluster.RawClient(master.Id);
            var relative = await Expect.StatusAsync(StatusCode.InvalidArgument, () => client.CreateFileAsync("relative/file").AsTask());
            Assert.Contains("invalid path", relative.Detail);
            Assert.Contains("must be absolute", relative.Detail);

            var empty = await Expect.StatusAsync(StatusCode.InvalidArgument, () => client.GetStatusAsync("/a//b").AsTask());
            Assert.Contains("empty component", empty.Detail);

            var dots = await Expect.StatusAsync(StatusCode.InvalidArgument, () => client.ListStatusAsync("/a/../b").AsTask());
            Assert.Contains("'..'", dots.Detail);

            var rename = await Expect.StatusAsync(StatusCode.InvalidArgument, () => client.RenameAsync("/a", "b/").AsTask());
            Assert.Contains("dst_path", rename.Detail);

            // Still serving: a valid read on the same master.
            Assert.Equal(InodeKind.Directory, (await Expect.RetryUnavailableAsync(() => client.GetStatusAsync("/").AsTask())).Kind);
        }
    }

    [Fact]
    public async Task Unknown_methods_and_services_are_unimplemented_on_both_ports()
    {
        foreach (var master in Cluster.Masters)
        {
            foreach (var address in new[] { master.ClientAddress, master.PeerAddress })
            {
                var method = await SendRawAsync(address, "/hamaster.v1.FileSystemMaster/NoSuchMethod", Frame(new GetStatusRequest { Path = "/" }.ToByteArray()));
                Assert.Equal(StatusCode.Unimplemented, method.Status);
                Assert.False(string.IsNullOrWhiteSpace(method.Message), "the status should say why");
                var service = await SendRawAsync(address, "/no.such.v1.Service/Call", Frame([]));
                Assert.Equal(StatusCode.Unimplemented, service.Status);
            }

            await AssertServingAsync(master);
        }
    }

    [Fact]
    public async Task A_malformed_length_prefix_is_internal_incomplete_message_on_both_ports()
    {
        var master = Cluster.Masters[0];
        // The prefix announces 100 bytes, the body ends after 10.
        var truncated = await SendRawAsync(master.ClientAddress, GetStatusPath, Frame(new byte[10], declaredLength: 100));
        Assert.Equal(StatusCode.Internal, truncated.Status);
        Assert.Contains("Incomplete message", truncated.Message, StringComparison.OrdinalIgnoreCase);
        // Three bytes: not even a whole prefix.
        var prefix = await SendRawAsync(master.ClientAddress, GetStatusPath, [0, 0, 0]);
        Assert.Equal(StatusCode.Internal, prefix.Status);
        var peer = await SendRawAsync(master.PeerAddress, LocalStatusPath, Frame(new byte[10], declaredLength: 100));
        Assert.Equal(StatusCode.Internal, peer.Status);
        await AssertServingAsync(master);
    }

    [Fact]
    public async Task Invalid_protobuf_is_invalid_argument_naming_the_message_on_both_ports()
    {
        var master = Cluster.Masters[0];
        foreach (var (address, path) in new[] { (master.ClientAddress, GetStatusPath), (master.PeerAddress, LocalStatusPath) })
        {
            // A field with wire type 7 does not exist in protobuf.
            var garbage = await SendRawAsync(address, path, Frame([0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF]));
            Assert.True(garbage.Status == StatusCode.InvalidArgument, $"{address}{path}: {garbage.Status} {garbage.Message}");
            Assert.StartsWith("could not parse request as hamaster.v1.", garbage.Message, StringComparison.Ordinal);
        }

        await AssertServingAsync(master);
    }

    [Fact]
    public async Task A_malformed_grpc_timeout_is_invalid_argument_and_a_valid_one_is_enforced()
    {
        var master = Cluster.Masters[0];
        var body = Frame(new GetStatusRequest { Path = "/", Consistency = Consistency.Stale }.ToByteArray());
        // The gRPC spec's Timeout is 1 to 8 digits and a unit; anything else is refused, naming the header.
        foreach (var malformed in new[] { "soon", "123456789S", "10", "-1S", "1.5S", "1s" })
        {
            var refused = await SendRawAsync(master.ClientAddress, GetStatusPath, body, ("grpc-timeout", malformed));
            Assert.True(refused.Status == StatusCode.InvalidArgument, $"grpc-timeout {malformed}: {refused.Status} {refused.Message}");
            Assert.Contains("grpc-timeout", refused.Message, StringComparison.Ordinal);
        }

        // The largest valid value (about 11,000 years) is served like any deadline.
        var huge = await SendRawAsync(master.ClientAddress, GetStatusPath, body, ("grpc-timeout", "99999999H"));
        Assert.Equal(StatusCode.OK, huge.Status);
        Assert.Equal("/", GetStatusResponse.Parser.ParseFrom(huge.Body.AsSpan(5)).Info.Path);

        // A deadline that passed before the call could finish: DEADLINE_EXCEEDED from the server itself.
        var expired = await SendRawAsync(master.ClientAddress, GetStatusPath, Frame(new GetStatusRequest { Path = "/" }.ToByteArray()), ("grpc-timeout", "1n"));
        Assert.True(expired.Status is StatusCode.DeadlineExceeded or StatusCode.OK, $"got {expired.Status}: {expired.Message}");
        await AssertServingAsync(master);
    }

    [Fact]
    public async Task An_oversized_message_is_resource_exhausted_and_the_master_keeps_serving()
    {
        var (leader, followers) = await Cluster.RolesAsync();
        foreach (var id in new[] { leader, followers[0] })
        {
            // The masters accept at most 8 MiB per message (the default); this client may send 32 MiB.
            var channel = new FileSystemMaster.FileSystemMasterClient(Cluster.RawChannel(id, 32 << 20));
            var huge = new CreateFileRequest { Path = "/" + new string('x', 9 << 20) };
            var error = await Expect.GrpcStatusAsync(StatusCode.ResourceExhausted, () => channel.CreateFileAsync(huge, deadline: DateTime.UtcNow.AddSeconds(20)).ResponseAsync);
            Assert.False(string.IsNullOrWhiteSpace(error.Status.Detail), "the status should say why");

            // The same channel and a fresh client are both served afterwards.
            var root = await channel.GetStatusAsync(new GetStatusRequest { Path = "/" }, deadline: DateTime.UtcNow.AddSeconds(20));
            Assert.Equal("/", root.Info.Path);
            var created = await Expect.RetryUnavailableAsync(() => Cluster.RawClient(id).CreateDirectoryAsync($"/after-oversized-{id}", recursive: true).AsTask());
            Assert.Equal($"/after-oversized-{id}", created.Path);
        }
    }

    [Fact]
    public async Task An_oversized_raw_frame_on_the_peer_port_is_resource_exhausted()
    {
        var master = Cluster.Masters[0];
        var response = await SendRawAsync(master.PeerAddress, "/hamaster.v1.RaftPeer/Deliver", Frame(new byte[(8 << 20) + 1]));
        Assert.Equal(StatusCode.ResourceExhausted, response.Status);
        await AssertServingAsync(master);
    }

    private async Task AssertServingAsync(MasterProcess master)
    {
        var root = await SendRawAsync(master.ClientAddress, GetStatusPath, Frame(new GetStatusRequest { Path = "/", Consistency = Consistency.Stale }.ToByteArray()));
        Assert.Equal(StatusCode.OK, root.Status);
    }

    private async Task<(StatusCode Status, string Message, byte[] Body)> SendRawAsync(string hostPort, string path, byte[] body, params (string Name, string Value)[] headers)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, new Uri($"http://{hostPort}{path}"))
        {
            Version = HttpVersion.Version20,
            VersionPolicy = HttpVersionPolicy.RequestVersionExact,
            Content = new ByteArrayContent(body),
        };
        request.Content.Headers.ContentType = new MediaTypeHeaderValue("application/grpc");
        request.Headers.TryAddWithoutValidation("te", "trailers");
        foreach (var (name, value) in headers)
        {
            request.Headers.TryAddWithoutValidation(name, value);
        }

        using var response = await _http.SendAsync(request);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var bytes = await response.Content.ReadAsByteArrayAsync();
        var source = response.TrailingHeaders.NonValidated.Contains("grpc-status") ? response.TrailingHeaders.NonValidated : response.Headers.NonValidated;
        Assert.True(source.TryGetValues("grpc-status", out var statusValues), "no grpc-status");
        var message = source.TryGetValues("grpc-message", out var messageValues) ? Uri.UnescapeDataString(messageValues.ToString()) : string.Empty;
        return ((StatusCode)int.Parse(statusValues.ToString(), System.Globalization.CultureInfo.InvariantCulture), message, bytes);
    }

    private static byte[] Frame(byte[] payload, int? declaredLength = null)
    {
        var frame = new byte[5 + payload.Length];
        BinaryPrimitives.WriteUInt32BigEndian(frame.AsSpan(1), (uint)(declaredLength ?? payload.Length));
        payload.CopyTo(frame, 5);
        return frame;
    }
}
