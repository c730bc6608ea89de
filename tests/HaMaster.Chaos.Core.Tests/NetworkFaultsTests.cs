using System.Net;
using HaMaster.Chaos.Core.Network;

namespace HaMaster.Chaos.Core.Tests;

public sealed class NetworkFaultsTests
{
    // A link that should pass gets a generous bound (a loaded CI machine may take a while to echo);
    // a link that should be cut is judged by silence for Net.Silence.
    private static async Task<bool> ReachesAsync(NetworkFaults mesh, int from, int to, TimeSpan wait)
    {
        using var socket = await Net.ConnectAsync(mesh.Address(from, to));
        await Net.SendAsync(socket, "?");
        return await Net.ReceiveAsync(socket, 1, wait) == "?";
    }

    private static Task<bool> ReachesAsync(NetworkFaults mesh, int from, int to) => ReachesAsync(mesh, from, to, Net.Silence);

    private static async Task WithMeshAsync(Func<NetworkFaults, Task> body)
    {
        var nodes = new[] { new EchoServer(), new EchoServer(), new EchoServer() };
        try
        {
            await using var mesh = NetworkFaults.Start(nodes.Select(n => (EndPoint)n.Endpoint).ToArray(), seed: 5);
            await body(mesh);
        }
        finally
        {
            foreach (var node in nodes)
            {
                await node.DisposeAsync();
            }
        }
    }

    [Fact]
    public Task Every_directed_link_has_its_own_proxy() => WithMeshAsync(async mesh =>
    {
        var addresses = new HashSet<IPEndPoint>();
        for (var from = 0; from < 3; from++)
        {
            for (var to = 0; to < 3; to++)
            {
                if (from != to)
                {
                    Assert.True(addresses.Add(mesh.Address(from, to)));
                    Assert.True(await ReachesAsync(mesh, from, to, Net.Patience));
                }
            }
        }

        Assert.Equal(6, addresses.Count);
        Assert.Throws<ArgumentOutOfRangeException>(() => mesh.Link(1, 1));
    });

    [Fact]
    public Task Partition_cuts_between_groups_only_and_heal_restores() => WithMeshAsync(async mesh =>
    {
        mesh.Partition([0], [1, 2]);
        Assert.False(await ReachesAsync(mesh, 0, 1));
        Assert.False(await ReachesAsync(mesh, 2, 0));
        Assert.True(await ReachesAsync(mesh, 1, 2, Net.Patience));
        Assert.True(await ReachesAsync(mesh, 2, 1, Net.Patience));
        mesh.Heal();
        Assert.True(await ReachesAsync(mesh, 0, 1, Net.Patience));
        Assert.True(await ReachesAsync(mesh, 2, 0, Net.Patience));
    });

    [Fact]
    public Task Isolate_cuts_one_node_both_ways() => WithMeshAsync(async mesh =>
    {
        mesh.Isolate(2);
        Assert.False(await ReachesAsync(mesh, 2, 0));
        Assert.False(await ReachesAsync(mesh, 1, 2));
        Assert.True(await ReachesAsync(mesh, 0, 1, Net.Patience));
        Assert.True(mesh.Link(0, 2).Faults(FlowDirection.ClientToTarget).Blackholed);
        Assert.False(mesh.Link(0, 1).Faults(FlowDirection.ClientToTarget).Blackholed);
    });

    [Fact]
    public Task One_way_blocks_only_bytes_sent_by_the_source() => WithMeshAsync(async mesh =>
    {
        mesh.OneWay(0, 1);
        Assert.True(mesh.Link(0, 1).Faults(FlowDirection.ClientToTarget).Blackholed);
        Assert.False(mesh.Link(0, 1).Faults(FlowDirection.TargetToClient).Blackholed);
        Assert.True(mesh.Link(1, 0).Faults(FlowDirection.TargetToClient).Blackholed);
        Assert.False(mesh.Link(1, 0).Faults(FlowDirection.ClientToTarget).Blackholed);
        Assert.False(await ReachesAsync(mesh, 0, 1));
        Assert.True(await ReachesAsync(mesh, 0, 2, Net.Patience));
    });

    [Fact]
    public Task Slow_delays_every_link_touching_the_node() => WithMeshAsync(mesh =>
    {
        mesh.Slow(1, TimeSpan.FromMilliseconds(50));
        Assert.Equal(TimeSpan.FromMilliseconds(50), mesh.Link(0, 1).Faults(FlowDirection.ClientToTarget).Latency);
        Assert.Equal(TimeSpan.FromMilliseconds(50), mesh.Link(1, 2).Faults(FlowDirection.TargetToClient).Latency);
        Assert.Equal(TimeSpan.Zero, mesh.Link(0, 2).Faults(FlowDirection.ClientToTarget).Latency);
        mesh.SlowLink(0, 2, TimeSpan.FromMilliseconds(7));
        Assert.Equal(TimeSpan.FromMilliseconds(7), mesh.Link(0, 2).Faults(FlowDirection.TargetToClient).Latency);
        mesh.Heal();
        Assert.Equal(FlowFaults.None, mesh.Link(0, 1).Faults(FlowDirection.ClientToTarget));
        return Task.CompletedTask;
    });
}
