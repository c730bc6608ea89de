using System.Net;
using System.Net.Sockets;
using HaMaster.Chaos.Core.Network;

namespace HaMaster.Chaos.Core.Tests.Network;

public class FreePortsTests
{
    [Fact]
    public void Ports_are_distinct_bindable_and_below_the_ephemeral_range()
    {
        var first = FreePorts.Take(20);
        var second = FreePorts.Take(20);
        var all = first.Concat(second).ToList();

        Assert.Equal(all.Count, all.Distinct().Count()); // never handed out twice
        Assert.All(all, p => Assert.InRange(p, FreePorts.Range.Low, FreePorts.Range.High - 1));
        var ephemeralLow = int.Parse(File.ReadAllText("/proc/sys/net/ipv4/ip_local_port_range").Split('\t', ' ')[0], System.Globalization.CultureInfo.InvariantCulture);
        Assert.True(FreePorts.Range.High <= ephemeralLow);
        foreach (var port in first)
        {
            using var listener = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
            listener.Bind(new IPEndPoint(IPAddress.Loopback, port));
        }
    }

    [Fact]
    public void A_port_in_use_is_skipped()
    {
        var (low, high) = FreePorts.Range;
        var busy = new List<TcpListener>();
        try
        {
            // Occupy the next few candidates of the range; Take must step over them.
            var probe = FreePorts.Take(1)[0];
            for (var p = probe + 1; p < Math.Min(probe + 6, high); p++)
            {
                try
                {
                    var l = new TcpListener(IPAddress.Loopback, p);
                    l.Start();
                    busy.Add(l);
                }
                catch (SocketException)
                {
                }
            }

            var taken = FreePorts.Take(3);
            Assert.DoesNotContain(taken, p => busy.Any(b => ((IPEndPoint)b.LocalEndpoint).Port == p));
            Assert.All(taken, p => Assert.InRange(p, low, high - 1));
        }
        finally
        {
            foreach (var l in busy) l.Stop();
        }
    }
}
