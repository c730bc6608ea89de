using System.Net;
using System.Net.Sockets;
using Grpc.Core;
using HaMaster.Bench.LeanGrpc;
using HaMaster.Cluster.Tests.Infrastructure;
using HaMaster.Protos.V1;

namespace HaMaster.Cluster.Tests;

/// <summary>
/// The fleet benchmark's bare HTTP/2 client (bench/HaMaster.Bench.LeanGrpc) against a real master
/// on Kestrel: answers and statuses must be what Grpc.Net.Client sees, or the benchmark's figures
/// would measure something else.
/// </summary>
[Collection(SharedClusterCollection.Name)]
public sealed class LeanUnaryConnectionTests(SharedClusterFixture fixture)
{
    private static readonly string GetStatusMethod = "/" + FileSystemMaster.Descriptor.FullName + "/GetStatus";

    private TestCluster Cluster => fixture.Cluster;

    [Fact]
    public async Task Calls_one_after_another_on_one_connection_get_the_masters_answers_and_statuses()
    {
        var leader = await Cluster.WaitForLeaderAsync();
        var file = await Expect.RetryUnavailableAsync(() => Cluster.RawClient(leader).CreateFileAsync("/lean-client/file", recursive: true).AsTask());
        var endpoint = new Uri("http://" + Cluster.Master(leader).ClientAddress);
        using var connection = new LeanUnaryConnection(endpoint.Host, endpoint.Port);

        // Many calls on the same connection (stream ids advance, the HPACK dynamic table the server
        // fills is followed), each with the right answer.
        for (var i = 0; i < 200; i++)
        {
            var response = await connection.UnaryAsync(GetStatusMethod, new GetStatusRequest { Path = "/lean-client/file", Consistency = Consistency.Linearizable }, GetStatusResponse.Parser, TimeSpan.FromSeconds(10));
            Assert.Equal(file.Id, response.Info.Id);
            Assert.True(connection.IsConnected);
        }

        // A failure status travels with its message, and the connection stays usable.
        var missing = await Assert.ThrowsAsync<RpcException>(() => connection.UnaryAsync(GetStatusMethod, new GetStatusRequest { Path = "/lean-client/none" }, GetStatusResponse.Parser, TimeSpan.FromSeconds(10)).AsTask());
        Assert.Equal(StatusCode.NotFound, missing.StatusCode);
        Assert.Contains("/lean-client/none", missing.Status.Detail, StringComparison.Ordinal);
        var again = await connection.UnaryAsync(GetStatusMethod, new GetStatusRequest { Path = "/lean-client/file" }, GetStatusResponse.Parser, TimeSpan.FromSeconds(10));
        Assert.Equal(file.Id, again.Info.Id);

        // An unknown method is the server's UNIMPLEMENTED, not a transport failure.
        var unknown = await Assert.ThrowsAsync<RpcException>(() => connection.UnaryAsync("/" + FileSystemMaster.Descriptor.FullName + "/NoSuchMethod", new GetStatusRequest(), GetStatusResponse.Parser, TimeSpan.FromSeconds(10)).AsTask());
        Assert.Equal(StatusCode.Unimplemented, unknown.StatusCode);
    }

    [Fact]
    public async Task A_port_nobody_listens_on_is_UNAVAILABLE()
    {
        // Bind and close a listener: the port is then (for a moment) one nobody listens on.
        int port;
        using (var listener = new TcpListener(IPAddress.Loopback, 0))
        {
            listener.Start();
            port = ((IPEndPoint)listener.LocalEndpoint).Port;
        }

        using var connection = new LeanUnaryConnection("127.0.0.1", port);
        var failure = await Assert.ThrowsAsync<RpcException>(() => connection.UnaryAsync(GetStatusMethod, new GetStatusRequest { Path = "/" }, GetStatusResponse.Parser, TimeSpan.FromSeconds(5)).AsTask());
        Assert.Equal(StatusCode.Unavailable, failure.StatusCode);
        Assert.False(connection.IsConnected);
    }
}
