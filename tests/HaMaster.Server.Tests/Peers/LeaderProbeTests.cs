using System.Net;
using System.Net.Sockets;
using HaMaster.Server.Peers;

namespace HaMaster.Server.Tests.Peers;

public sealed class LeaderProbeTests
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(5);

    [Fact]
    public async Task A_port_nobody_listens_on_is_refused()
    {
        // Bind then close: the port is free and (on loopback) refuses connections.
        int port;
        using (var listener = new TcpListener(IPAddress.Loopback, 0))
        {
            listener.Start();
            port = ((IPEndPoint)listener.LocalEndpoint).Port;
            listener.Stop();
        }

        Assert.True(await LeaderProbe.IsRefusedAsync($"127.0.0.1:{port}", Timeout, CancellationToken.None));
    }

    [Fact]
    public async Task A_listening_port_is_not_evidence_of_death_even_if_nobody_accepts()
    {
        // Like a paused (SIGSTOP) master: the kernel completes the handshake from the backlog.
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var port = ((IPEndPoint)listener.LocalEndpoint).Port;

        Assert.False(await LeaderProbe.IsRefusedAsync($"127.0.0.1:{port}", Timeout, CancellationToken.None));
    }

    [Theory]
    [InlineData("")]
    [InlineData("no-port")]
    [InlineData("127.0.0.1:0")]
    [InlineData("127.0.0.1:99999")]
    [InlineData(":80")]
    public async Task A_malformed_address_is_no_evidence(string address)
    {
        Assert.False(await LeaderProbe.IsRefusedAsync(address, Timeout, CancellationToken.None));
    }

    [Fact]
    public void Addresses_split_into_host_and_port_including_bracketed_ipv6()
    {
        Assert.True(LeaderProbe.TrySplit("[::1]:19300", out var host, out var port));
        Assert.Equal("::1", host);
        Assert.Equal(19300, port);
        Assert.True(LeaderProbe.TrySplit("master-0.hamaster:19300", out host, out port));
        Assert.Equal("master-0.hamaster", host);
        Assert.Equal(19300, port);
    }
}
