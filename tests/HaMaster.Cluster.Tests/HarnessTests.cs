using System.Net;
using System.Net.Sockets;

namespace HaMaster.Cluster.Tests;

/// <summary>The shared process harness itself (tests/HaMaster.Testing): the READY line and the retry after a port clash.</summary>
public sealed class HarnessTests
{
    [Fact]
    public void Ready_line_gives_the_bound_ports()
    {
        var ready = ReadyLine.Parse("HAMASTER READY id=3 client=127.0.0.1:40001 peer=127.0.0.1:40002 web=127.0.0.1:40003");
        Assert.Equal(3UL, ready.Id);
        Assert.Equal(40001, ready.Client.Port);
        Assert.Equal(40002, ready.Peer.Port);
        Assert.Equal(40003, ready.Web!.Port);
        Assert.Null(ReadyLine.Parse("HAMASTER READY id=1 client=127.0.0.1:1 peer=127.0.0.1:2 web=off").Web);
    }

    [Theory]
    [InlineData("HAMASTER READY id=1 client=127.0.0.1:0 peer=127.0.0.1:2 web=off")]
    [InlineData("HAMASTER READY id=1 peer=127.0.0.1:2 web=off")]
    [InlineData("HAMASTER READY id=x client=127.0.0.1:1 peer=127.0.0.1:2 web=off")]
    [InlineData("master 1 serving")]
    public void A_malformed_ready_line_is_refused(string line) => Assert.Throws<FormatException>(() => ReadyLine.Parse(line));

    [Fact]
    public async Task A_port_taken_before_the_start_moves_the_cluster_to_new_ports()
    {
        await using var cluster = TestCluster.Create(new ClusterSettings { Size = 1 });
        var chosen = cluster.Master(1).PeerPort;
        using var squatter = new TcpListener(IPAddress.Loopback, chosen);
        squatter.Start();

        await cluster.StartAllAsync();

        Assert.NotEqual(chosen, cluster.Master(1).PeerPort);
        Assert.Equal(2, Directory.GetFiles(Path.Combine(cluster.Directory, "master-1"), "run-*.log").Length);
        Assert.Equal(1UL, await cluster.WaitForLeaderAsync());
    }
}
