using System.Net;

namespace HaMaster.Chaos.Core.Network;

/// <summary>
/// A full mesh of <see cref="TcpFaultProxy"/> between N nodes: one proxy per directed link,
/// node i reaches node j through <see cref="Address"/>(i, j). A link carries i's requests to j
/// (<see cref="FlowDirection.ClientToTarget"/>) and j's replies to i (<see cref="FlowDirection.TargetToClient"/>).
/// Every operation replaces the previous fault picture except <see cref="Slow(int, TimeSpan, TimeSpan)"/>
/// and <see cref="SlowLink"/>, which add to it; <see cref="Heal"/> clears everything.
/// Thread-safe (each proxy is); operations from several threads interleave per link.
/// </summary>
public sealed class NetworkFaults : IAsyncDisposable
{
    private readonly TcpFaultProxy?[,] _links;

    private NetworkFaults(TcpFaultProxy?[,] links, int nodes)
    {
        _links = links;
        NodeCount = nodes;
    }

    public int NodeCount { get; }

    /// <summary>Starts N*(N-1) proxies; <paramref name="nodes"/>[j] is where node j listens for peers.</summary>
    public static NetworkFaults Start(IReadOnlyList<EndPoint> nodes, int seed = 0)
    {
        ArgumentNullException.ThrowIfNull(nodes);
        if (nodes.Count < 2)
        {
            throw new ArgumentException("a mesh needs at least two nodes", nameof(nodes));
        }

        var links = new TcpFaultProxy?[nodes.Count, nodes.Count];
        for (var from = 0; from < nodes.Count; from++)
        {
            for (var to = 0; to < nodes.Count; to++)
            {
                if (from != to)
                {
                    links[from, to] = TcpFaultProxy.Start(nodes[to], HashCode.Combine(seed, from, to));
                }
            }
        }

        return new NetworkFaults(links, nodes.Count);
    }

    /// <summary>The proxy node <paramref name="from"/> uses to reach node <paramref name="to"/>.</summary>
    public TcpFaultProxy Link(int from, int to)
    {
        ArgumentOutOfRangeException.ThrowIfEqual(from, to);
        return _links[from, to] ?? throw new ArgumentOutOfRangeException(nameof(to));
    }

    /// <summary>The address node <paramref name="from"/> must be configured with to reach node <paramref name="to"/>.</summary>
    public IPEndPoint Address(int from, int to) => Link(from, to).Endpoint;

    /// <summary>Nodes in different groups cannot exchange bytes; a node in no group is cut off from all. Replaces earlier faults.</summary>
    public void Partition(params IReadOnlyList<int>[] groups)
    {
        ArgumentNullException.ThrowIfNull(groups);
        var groupOf = Enumerable.Repeat(-1, NodeCount).ToArray();
        for (var g = 0; g < groups.Length; g++)
        {
            foreach (var node in groups[g])
            {
                ArgumentOutOfRangeException.ThrowIfNegative(node);
                ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(node, NodeCount);
                if (groupOf[node] >= 0)
                {
                    throw new ArgumentException($"node {node} is in two groups", nameof(groups));
                }

                groupOf[node] = g;
            }
        }

        Heal();
        foreach (var (from, to) in Pairs())
        {
            if (groupOf[from] < 0 || groupOf[from] != groupOf[to])
            {
                Link(from, to).SetBlackhole(true);
            }
        }
    }

    /// <summary>Cuts <paramref name="node"/> off from every other node, both ways. Replaces earlier faults.</summary>
    public void Isolate(int node)
    {
        Heal();
        foreach (var (from, to) in Pairs())
        {
            if (from == node || to == node)
            {
                Link(from, to).SetBlackhole(true);
            }
        }
    }

    /// <summary>
    /// Bytes sent by <paramref name="from"/> no longer reach <paramref name="to"/> (on both links
    /// between them), while <paramref name="to"/> still reaches <paramref name="from"/>. Adds to earlier faults.
    /// </summary>
    public void OneWay(int from, int to)
    {
        Link(from, to).SetBlackhole(FlowDirection.ClientToTarget, true);
        Link(to, from).SetBlackhole(FlowDirection.TargetToClient, true);
    }

    /// <summary>Adds latency (and jitter) to every link touching <paramref name="node"/>, both directions.</summary>
    public void Slow(int node, TimeSpan latency, TimeSpan jitter = default)
    {
        foreach (var (from, to) in Pairs())
        {
            if (from == node || to == node)
            {
                Link(from, to).SetDelay(latency, jitter);
            }
        }
    }

    /// <summary>Adds latency (and jitter) to the link <paramref name="from"/> -> <paramref name="to"/>, both directions.</summary>
    public void SlowLink(int from, int to, TimeSpan latency, TimeSpan jitter = default) => Link(from, to).SetDelay(latency, jitter);

    /// <summary>Resets every open connection on every link touching <paramref name="node"/> (or all links when null).</summary>
    public int ResetConnections(int? node = null)
        => Pairs().Where(p => node is null || p.From == node || p.To == node).Sum(p => Link(p.From, p.To).ResetConnections());

    /// <summary>Clears every fault on every link.</summary>
    public void Heal()
    {
        foreach (var (from, to) in Pairs())
        {
            Link(from, to).Pass();
        }
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var (from, to) in Pairs())
        {
            await Link(from, to).DisposeAsync();
        }
    }

    private IEnumerable<(int From, int To)> Pairs()
    {
        for (var from = 0; from < NodeCount; from++)
        {
            for (var to = 0; to < NodeCount; to++)
            {
                if (from != to)
                {
                    yield return (from, to);
                }
            }
        }
    }
}
