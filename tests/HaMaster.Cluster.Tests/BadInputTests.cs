using HaMaster.Cluster.Tests.Infrastructure;
using HaMaster.Grpc;
using HaMaster.Protos.V1;

namespace HaMaster.Cluster.Tests;

/// <summary>Bad input on the real server gets a clear status and reason, and the master keeps serving.</summary>
[Collection(SharedClusterCollection.Name)]
public sealed class BadInputTests(SharedClusterFixture fixture)
{
    private static readonly CallOptions Call = new() { Timeout = TimeSpan.FromSeconds(20) };

    private TestCluster Cluster => fixture.Cluster;

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
    public async Task Unknown_methods_and_services_are_unimplemented()
    {
        foreach (var master in Cluster.Masters)
        {
            var channel = Cluster.Channel(master.Id);
            var method = await Expect.GrpcStatusAsync(StatusCode.Unimplemented, () => channel.UnaryAsync("/hamaster.v1.FileSystemMaster/NoSuchMethod",
                new GetStatusRequest { Path = "/" }, GetStatusResponse.Parser, Call).AsTask());
            Assert.Contains("NoSuchMethod", method.Detail);
            await Expect.GrpcStatusAsync(StatusCode.Unimplemented, () => channel.UnaryAsync("/no.such.v1.Service/Call",
                new GetStatusRequest { Path = "/" }, GetStatusResponse.Parser, Call).AsTask());

            var root = await channel.UnaryAsync("/hamaster.v1.FileSystemMaster/GetStatus", new GetStatusRequest { Path = "/" }, GetStatusResponse.Parser, Call);
            Assert.Equal("/", root.Message.Info.Path);
        }
    }

    [Fact]
    public async Task An_oversized_message_is_resource_exhausted_and_the_master_keeps_serving()
    {
        var (leader, followers) = await Cluster.RolesAsync();
        foreach (var id in new[] { leader, followers[0] })
        {
            // The masters accept at most 8 MiB per message (the default); this client may send 32 MiB.
            var channel = Cluster.Channel(id, new GrpcChannelOptions { MaxSendMessageBytes = 32 << 20, MaxReceiveMessageBytes = 32 << 20 });
            var huge = new CreateFileRequest { Path = "/" + new string('x', 9 << 20) };
            var error = await Expect.GrpcStatusAsync(StatusCode.ResourceExhausted, () => channel.UnaryAsync("/hamaster.v1.FileSystemMaster/CreateFile",
                huge, CreateFileResponse.Parser, Call).AsTask());
            Assert.False(string.IsNullOrWhiteSpace(error.Detail), "the status should say why");

            // The same channel and a fresh client are both served afterwards.
            var root = await channel.UnaryAsync("/hamaster.v1.FileSystemMaster/GetStatus", new GetStatusRequest { Path = "/" }, GetStatusResponse.Parser, Call);
            Assert.Equal("/", root.Message.Info.Path);
            var created = await Expect.RetryUnavailableAsync(() => Cluster.RawClient(id).CreateDirectoryAsync($"/after-oversized-{id}", recursive: true).AsTask());
            Assert.Equal($"/after-oversized-{id}", created.Path);
        }
    }
}
