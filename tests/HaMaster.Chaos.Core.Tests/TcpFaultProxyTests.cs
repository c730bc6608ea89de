using System.Diagnostics;
using System.Net.Sockets;
using HaMaster.Chaos.Core.Network;

namespace HaMaster.Chaos.Core.Tests;

public sealed class TcpFaultProxyTests
{
    [Fact]
    public async Task Passes_bytes_both_ways()
    {
        await using var echo = new EchoServer();
        await using var proxy = TcpFaultProxy.Start(echo.Endpoint);
        using var client = await Net.ConnectAsync(proxy.Endpoint);
        await Net.SendAsync(client, "hello");
        Assert.Equal("hello", await Net.ReceiveAsync(client, 5, Net.Patience));
        Assert.Equal(5, proxy.BytesForwarded(FlowDirection.ClientToTarget));
        Assert.True(await Net.EventuallyAsync(() => proxy.BytesForwarded(FlowDirection.TargetToClient) == 5));
        Assert.Equal(1, proxy.OpenConnections);
    }

    [Fact]
    public async Task Delay_holds_each_direction_at_least_the_latency()
    {
        await using var echo = new EchoServer();
        await using var proxy = TcpFaultProxy.Start(echo.Endpoint, seed: 3);
        proxy.SetDelay(TimeSpan.FromMilliseconds(100), TimeSpan.FromMilliseconds(20));
        using var client = await Net.ConnectAsync(proxy.Endpoint);
        var clock = Stopwatch.StartNew();
        await Net.SendAsync(client, "slow");
        Assert.Equal("slow", await Net.ReceiveAsync(client, 4, Net.Patience));
        Assert.True(clock.Elapsed >= TimeSpan.FromMilliseconds(195), $"round trip {clock.Elapsed} under two latencies");
        Assert.Equal(new FlowFaults(false, TimeSpan.FromMilliseconds(100), TimeSpan.FromMilliseconds(20)), proxy.Faults(FlowDirection.TargetToClient));
    }

    [Fact]
    public async Task Blackhole_toward_the_target_holds_requests_until_healed()
    {
        await using var echo = new EchoServer();
        await using var proxy = TcpFaultProxy.Start(echo.Endpoint);
        using var client = await Net.ConnectAsync(proxy.Endpoint);
        proxy.SetBlackhole(FlowDirection.ClientToTarget, true);
        await Net.SendAsync(client, "held");
        Assert.Null(await Net.ReceiveAsync(client, 4, Net.Silence));
        Assert.Equal(0, echo.BytesReceived);
        proxy.Pass();
        Assert.Equal("held", await Net.ReceiveAsync(client, 4, Net.Patience));
    }

    [Fact]
    public async Task Blackhole_toward_the_client_lets_requests_through_but_holds_replies()
    {
        await using var echo = new EchoServer();
        await using var proxy = TcpFaultProxy.Start(echo.Endpoint);
        using var client = await Net.ConnectAsync(proxy.Endpoint);
        proxy.SetBlackhole(FlowDirection.TargetToClient, true);
        await Net.SendAsync(client, "ping");
        Assert.True(await Net.EventuallyAsync(() => echo.BytesReceived == 4));
        Assert.Null(await Net.ReceiveAsync(client, 4, Net.Silence));
        proxy.SetBlackhole(FlowDirection.TargetToClient, false);
        Assert.Equal("ping", await Net.ReceiveAsync(client, 4, Net.Patience));
    }

    [Fact]
    public async Task Blackhole_both_ways_applies_to_new_connections_and_heals()
    {
        await using var echo = new EchoServer();
        await using var proxy = TcpFaultProxy.Start(echo.Endpoint);
        proxy.SetBlackhole(true);
        using var client = await Net.ConnectAsync(proxy.Endpoint);
        await Net.SendAsync(client, "both");
        Assert.Null(await Net.ReceiveAsync(client, 4, Net.Silence));
        Assert.Equal(0, echo.BytesReceived);
        proxy.SetBlackhole(false);
        Assert.Equal("both", await Net.ReceiveAsync(client, 4, Net.Patience));
    }

    [Fact]
    public async Task Reset_closes_open_connections_and_new_ones_still_work()
    {
        await using var echo = new EchoServer();
        await using var proxy = TcpFaultProxy.Start(echo.Endpoint);
        using var client = await Net.ConnectAsync(proxy.Endpoint);
        await Net.SendAsync(client, "a");
        Assert.Equal("a", await Net.ReceiveAsync(client, 1, Net.Patience));
        Assert.Equal(1, proxy.ResetConnections());
        await Assert.ThrowsAnyAsync<Exception>(async () =>
        {
            await Net.ReceiveAsync(client, 1, Net.Patience);
        });
        using var again = await Net.ConnectAsync(proxy.Endpoint);
        await Net.SendAsync(again, "b");
        Assert.Equal("b", await Net.ReceiveAsync(again, 1, Net.Patience));
    }

    [Fact]
    public async Task Dropping_new_connections_resets_them_but_spares_open_ones()
    {
        await using var echo = new EchoServer();
        await using var proxy = TcpFaultProxy.Start(echo.Endpoint);
        using var open = await Net.ConnectAsync(proxy.Endpoint);
        await Net.SendAsync(open, "1");
        Assert.Equal("1", await Net.ReceiveAsync(open, 1, Net.Patience));
        proxy.DropNewConnections = true;
        await Assert.ThrowsAnyAsync<Exception>(async () =>
        {
            // The reset may already hit the connect, or else the first read.
            using var refused = await Net.ConnectAsync(proxy.Endpoint);
            await Net.SendAsync(refused, "x");
            await Net.ReceiveAsync(refused, 1, Net.Patience);
        });
        Assert.True(await Net.EventuallyAsync(() => proxy.RefusedConnections == 1));
        await Net.SendAsync(open, "2");
        Assert.Equal("2", await Net.ReceiveAsync(open, 1, Net.Patience));
    }

    [Fact]
    public async Task Unreachable_target_resets_the_client()
    {
        var closed = new EchoServer();
        var endpoint = closed.Endpoint;
        await closed.DisposeAsync();
        await using var proxy = TcpFaultProxy.Start(endpoint);
        await Assert.ThrowsAnyAsync<Exception>(async () =>
        {
            // The reset may already hit the connect, or else the first read.
            using var client = await Net.ConnectAsync(proxy.Endpoint);
            await Net.ReceiveAsync(client, 1, Net.Patience);
        });
    }
}
