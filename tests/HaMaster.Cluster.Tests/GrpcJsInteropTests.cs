using System.Text.Json;
using HaMaster.Cluster.Tests.Infrastructure;
using Grpc.Core;

namespace HaMaster.Cluster.Tests;

/// <summary>Issue 6: a @grpc/grpc-js client creates and lists files against any master.</summary>
[Collection(SharedClusterCollection.Name)]
public sealed class GrpcJsInteropTests(SharedClusterFixture fixture)
{
    private TestCluster Cluster => fixture.Cluster;

    [Fact]
    public async Task A_grpc_js_client_creates_and_lists_files_on_every_master()
    {
        var leader = await Cluster.WaitForLeaderAsync();
        var leaderAddress = Cluster.Master(leader).ClientAddress;
        // One grpc-js process per master, side by side (each in its own directory).
        var runs = await Task.WhenAll(Cluster.Masters.Select(async master =>
        {
            var directory = $"/grpc-js/via-{master.Id}";
            return (Directory: directory, Run: await NodeScript.RunAsync("fs_client.js", [master.ClientAddress, RepositoryLayout.ProtoRoot, directory], TimeSpan.FromSeconds(90)));
        }));
        foreach (var (directory, run) in runs)
        {
            Assert.True(run.ExitCode == 0, $"fs_client.js failed ({run.ExitCode}): {run.StdErr}");
            using var json = JsonDocument.Parse(run.StdOut);
            var r = json.RootElement;

            var mkdir = r.GetProperty("mkdir");
            Assert.True(mkdir.GetProperty("code").GetInt32() == 0, mkdir.ToString());
            Assert.Equal(directory, mkdir.GetProperty("reply").GetProperty("info").GetProperty("path").GetString());
            Assert.Equal("INODE_KIND_DIRECTORY", mkdir.GetProperty("reply").GetProperty("info").GetProperty("kind").GetString());
            Assert.Equal(leaderAddress, mkdir.GetProperty("trailers").GetProperty("hamaster-leader").GetString());

            foreach (var create in r.GetProperty("creates").EnumerateArray())
            {
                Assert.True(create.GetProperty("code").GetInt32() == 0, create.ToString());
                Assert.Equal("INODE_KIND_FILE", create.GetProperty("reply").GetProperty("info").GetProperty("kind").GetString());
            }

            var duplicate = r.GetProperty("duplicate");
            Assert.Equal((int)StatusCode.AlreadyExists, duplicate.GetProperty("code").GetInt32());
            Assert.Contains("beta", duplicate.GetProperty("details").GetString());

            var list = r.GetProperty("list");
            Assert.True(list.GetProperty("code").GetInt32() == 0, list.ToString());
            Assert.Equal(["alpha", "beta", "gamma"], list.GetProperty("reply").GetProperty("entries").EnumerateArray().Select(e => e.GetProperty("name").GetString()));

            var stat = r.GetProperty("stat");
            Assert.Equal($"{directory}/gamma", stat.GetProperty("reply").GetProperty("info").GetProperty("path").GetString());
            Assert.Equal((int)StatusCode.NotFound, r.GetProperty("missing").GetProperty("code").GetInt32());

            // What grpc-js created is what the C# client library sees.
            var listed = new List<string>();
            await foreach (var entry in Cluster.CreateClient().ListAllAsync(directory))
            {
                listed.Add(entry.Name);
            }

            Assert.Equal(["alpha", "beta", "gamma"], listed);
        }
    }
}
