using System.Text.Json;
using Grpc.Core;
using Grpc.Health.V1;
using Grpc.Reflection.V1Alpha;
using HaMaster.Cluster.Tests.Infrastructure;

namespace HaMaster.Cluster.Tests;

/// <summary>
/// Every public service of a real master answers clients of other stacks: @grpc/grpc-js and
/// Python grpcio call FileSystemMaster, BlockMaster, ClusterAdmin and grpc.health.v1.Health; a
/// reflection client lists the services; Health/Check says SERVING on a ready master.
/// </summary>
[Collection(SharedClusterCollection.Name)]
public sealed class PublicServicesInteropTests(SharedClusterFixture fixture)
{
    private static readonly string[] PublicServices = ["hamaster.v1.FileSystemMaster", "hamaster.v1.BlockMaster", "hamaster.v1.ClusterAdmin"];

    private TestCluster Cluster => fixture.Cluster;

    [Fact]
    public async Task A_grpc_js_client_calls_BlockMaster_ClusterAdmin_and_Health_on_every_master()
    {
        var leader = await Cluster.WaitForLeaderAsync();
        var leaderAddress = Cluster.Master(leader).ClientAddress;
        foreach (var master in Cluster.Masters)
        {
            var worker = $"grpc-js-worker-{master.Id}:29999";
            var run = await NodeScript.RunAsync("services_client.js", [master.ClientAddress, RepositoryLayout.ProtoRoot, worker], TimeSpan.FromSeconds(90));
            Assert.True(run.ExitCode == 0, $"services_client.js failed ({run.ExitCode}): {run.StdErr}");
            using var json = JsonDocument.Parse(run.StdOut);
            var r = json.RootElement;

            var register = r.GetProperty("register");
            Assert.True(register.GetProperty("code").GetInt32() == 0, register.ToString());
            Assert.NotEqual("0", register.GetProperty("reply").GetProperty("workerId").GetString());
            Assert.Equal(leaderAddress, register.GetProperty("trailers").GetProperty("hamaster-leader").GetString());
            Assert.Equal("WORKER_COMMAND_NONE", r.GetProperty("heartbeat").GetProperty("reply").GetProperty("command").GetString());
            Assert.Contains(r.GetProperty("workers").GetProperty("reply").GetProperty("workers").EnumerateArray(), w => w.GetProperty("address").GetString() == worker);
            Assert.Equal((int)StatusCode.NotFound, r.GetProperty("block").GetProperty("code").GetInt32());

            var cluster = r.GetProperty("cluster");
            Assert.True(cluster.GetProperty("code").GetInt32() == 0, cluster.ToString());
            Assert.Equal(leader.ToString(System.Globalization.CultureInfo.InvariantCulture), cluster.GetProperty("reply").GetProperty("leaderId").GetString());
            Assert.Equal(Cluster.Masters.Count, cluster.GetProperty("reply").GetProperty("members").GetArrayLength());

            Assert.Equal("SERVING", r.GetProperty("health").GetProperty("reply").GetProperty("status").GetString());
            Assert.Equal("SERVING", r.GetProperty("healthFs").GetProperty("reply").GetProperty("status").GetString());
            Assert.Equal((int)StatusCode.NotFound, r.GetProperty("healthUnknown").GetProperty("code").GetInt32());
        }
    }

    [Fact]
    public async Task A_python_grpcio_client_calls_every_public_service()
    {
        await ProcessRun.RequirePythonGrpcAsync();
        var generated = Directory.CreateTempSubdirectory("hamaster-py-");
        try
        {
            var protos = Directory.GetFiles(Path.Combine(RepositoryLayout.ProtoRoot, "hamaster", "v1"), "*.proto").Select(p => Path.GetRelativePath(RepositoryLayout.ProtoRoot, p));
            var protoc = await ProcessRun.RunAsync("protoc", [$"--proto_path={RepositoryLayout.ProtoRoot}", $"--python_out={generated.FullName}", .. protos], TimeSpan.FromSeconds(60));
            Assert.True(protoc.ExitCode == 0, $"protoc failed: {protoc.StdErr}");
            var healthDir = Path.Combine(RepositoryLayout.InteropDirectory, "grpc", "health", "v1");
            protoc = await ProcessRun.RunAsync("protoc", [$"--proto_path={healthDir}", $"--python_out={generated.FullName}", "health.proto"], TimeSpan.FromSeconds(60));
            Assert.True(protoc.ExitCode == 0, $"protoc failed: {protoc.StdErr}");

            var leader = await Cluster.WaitForLeaderAsync();
            foreach (var master in Cluster.Masters)
            {
                var directory = $"/python/via-{master.Id}";
                var worker = $"python-worker-{master.Id}:29999";
                var run = await ProcessRun.RunAsync(ProcessRun.Python,
                    [Path.Combine(RepositoryLayout.InteropDirectory, "python_client.py"), master.ClientAddress, generated.FullName, directory, worker], TimeSpan.FromSeconds(90));
                Assert.True(run.ExitCode == 0, $"python_client.py failed ({run.ExitCode}): {run.StdErr}");
                using var json = JsonDocument.Parse(run.StdOut);
                var r = json.RootElement;

                Assert.Equal(0, r.GetProperty("mkdir").GetProperty("code").GetInt32());
                Assert.Equal(directory, r.GetProperty("mkdir").GetProperty("path").GetString());
                Assert.Equal(Cluster.Master(leader).ClientAddress, r.GetProperty("mkdir").GetProperty("leader").GetString());
                Assert.Equal(0, r.GetProperty("create").GetInt32());
                Assert.Equal((int)StatusCode.AlreadyExists, r.GetProperty("duplicate").GetProperty("code").GetInt32());
                Assert.Contains("py-file", r.GetProperty("duplicate").GetProperty("details").GetString());
                Assert.Equal(["py-file"], r.GetProperty("list").EnumerateArray().Select(e => e.GetString()));
                Assert.Equal((int)StatusCode.NotFound, r.GetProperty("missing").GetInt32());
                Assert.Equal(0, r.GetProperty("register").GetProperty("code").GetInt32());
                Assert.Contains(worker, r.GetProperty("workers").EnumerateArray().Select(e => e.GetString()));
                Assert.Equal(0, r.GetProperty("cluster").GetProperty("code").GetInt32());
                Assert.Equal(leader, r.GetProperty("cluster").GetProperty("leader_id").GetUInt64());
                Assert.Equal("SERVING", r.GetProperty("health").GetString());
            }
        }
        finally
        {
            generated.Delete(recursive: true);
        }
    }

    [Fact]
    public async Task A_reflection_client_lists_the_public_services_health_and_reflection()
    {
        foreach (var master in Cluster.Masters)
        {
            var reflection = new ServerReflection.ServerReflectionClient(Cluster.Channel(master.Id).Channel);
            using var call = reflection.ServerReflectionInfo(deadline: DateTime.UtcNow.AddSeconds(20));
            await call.RequestStream.WriteAsync(new ServerReflectionRequest { ListServices = "" });
            Assert.True(await call.ResponseStream.MoveNext(CancellationToken.None));
            var services = call.ResponseStream.Current.ListServicesResponse.Service.Select(s => s.Name).ToList();

            // The file descriptor of a service, as generic tools (grpcurl, Postman) fetch it to call it.
            await call.RequestStream.WriteAsync(new ServerReflectionRequest { FileContainingSymbol = "hamaster.v1.FileSystemMaster" });
            Assert.True(await call.ResponseStream.MoveNext(CancellationToken.None));
            var files = call.ResponseStream.Current.FileDescriptorResponse;
            await call.RequestStream.CompleteAsync();

            foreach (var name in PublicServices.Append("grpc.health.v1.Health"))
            {
                Assert.Contains(name, services);
            }

            Assert.Contains(services, s => s.StartsWith("grpc.reflection.", StringComparison.Ordinal));
            Assert.DoesNotContain("hamaster.v1.RaftPeer", services);
            Assert.NotNull(files);
            Assert.NotEmpty(files.FileDescriptorProto);
        }
    }

    [Fact]
    public async Task Health_check_is_serving_on_a_ready_master_for_the_server_and_each_public_service()
    {
        await Cluster.WaitForLeaderAsync();
        foreach (var master in Cluster.Masters)
        {
            var health = new Health.HealthClient(Cluster.Channel(master.Id).Channel);
            foreach (var service in PublicServices.Prepend(""))
            {
                var answer = await Expect.RetryUnavailableAsync(() => health.CheckAsync(new HealthCheckRequest { Service = service }, deadline: DateTime.UtcNow.AddSeconds(10)).ResponseAsync);
                Assert.Equal(HealthCheckResponse.Types.ServingStatus.Serving, answer.Status);
            }
        }
    }
}

/// <summary>
/// Health/Check answers NOT_SERVING on a master that knows no leader: one started with --join and
/// never added, and a member whose quorum is gone (it follows /readyz as it changes).
/// </summary>
public sealed class HealthWithoutLeaderTests(ThreeMasterFixture fixture) : IClassFixture<ThreeMasterFixture>
{
    [Fact]
    public async Task Health_check_is_not_serving_on_a_master_without_a_leader()
    {
        var joining = await fixture.Cluster.StartJoiningMasterAsync();
        try
        {
            var health = new Health.HealthClient(fixture.Cluster.Channel(joining.Id).Channel);
            var answer = await health.CheckAsync(new HealthCheckRequest(), deadline: DateTime.UtcNow.AddSeconds(10));
            Assert.Equal(HealthCheckResponse.Types.ServingStatus.NotServing, answer.Status);
            var fs = await health.CheckAsync(new HealthCheckRequest { Service = "hamaster.v1.FileSystemMaster" }, deadline: DateTime.UtcNow.AddSeconds(10));
            Assert.Equal(HealthCheckResponse.Types.ServingStatus.NotServing, fs.Status);

            // The members themselves have a leader: SERVING.
            var member = new Health.HealthClient(fixture.Cluster.Channel(await fixture.Cluster.WaitForLeaderAsync()).Channel);
            Assert.Equal(HealthCheckResponse.Types.ServingStatus.Serving, (await member.CheckAsync(new HealthCheckRequest(), deadline: DateTime.UtcNow.AddSeconds(10))).Status);
        }
        finally
        {
            await fixture.Cluster.RetireAsync(joining.Id);
        }
    }

    [Fact]
    public async Task Health_check_turns_not_serving_when_a_member_loses_its_leader()
    {
        var (leader, followers) = await fixture.Cluster.RolesAsync();
        var survivor = followers[0];
        var health = new Health.HealthClient(fixture.Cluster.Channel(survivor).Channel);
        Assert.Equal(HealthCheckResponse.Types.ServingStatus.Serving, (await health.CheckAsync(new HealthCheckRequest(), deadline: DateTime.UtcNow.AddSeconds(10))).Status);
        try
        {
            await fixture.Cluster.KillAsync(leader);
            await fixture.Cluster.KillAsync(followers[1]);
            await HaMaster.Chaos.Core.Processes.Eventually.TrueAsync("the survivor reports NOT_SERVING", async () =>
                (await health.CheckAsync(new HealthCheckRequest(), deadline: DateTime.UtcNow.AddSeconds(5))).Status == HealthCheckResponse.Types.ServingStatus.NotServing,
                TimeSpan.FromSeconds(30));
        }
        finally
        {
            await fixture.Cluster.EnsureAllRunningAsync();
        }
    }
}
