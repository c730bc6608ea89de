using System.Net;
using System.Net.Sockets;

namespace HaMaster.Chaos.Core.Network;

/// <summary>
/// Loopback ports for masters that tests start, chosen BELOW the kernel's ephemeral range
/// (<c>/proc/sys/net/ipv4/ip_local_port_range</c>): a port from that range that is probed free and
/// released can be taken by any outgoing connection before the master binds it ("address already in
/// use", seen in CI), while ports below it are only ever taken by an explicit bind. Each candidate is
/// probed by binding 127.0.0.1 to it; a port is never handed out twice by this process, and each
/// process starts at its own offset so concurrently running test processes rarely meet.
/// Shared by every test that starts real masters.
/// </summary>
public static class FreePorts
{
    private static readonly Lock Gate = new();
    private static readonly HashSet<int> HandedOut = [];
    private static int _next = -1;

    /// <summary>The ports tests choose from: [Low, High), below the ephemeral range.</summary>
    public static (int Low, int High) Range { get; } = ComputeRange();

    public static int[] Take(int count)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(count);
        var (low, high) = Range;
        var span = high - low;
        var result = new List<int>(count);
        lock (Gate)
        {
            if (_next < 0) _next = (int)((uint)(Environment.ProcessId * 7919) % (uint)span);
            for (var tried = 0; result.Count < count; tried++)
            {
                if (tried >= span) throw new InvalidOperationException($"no free loopback port left in [{low}, {high})");
                var port = low + _next;
                _next = (_next + 1) % span;
                if (HandedOut.Contains(port) || !IsFree(port)) continue;
                HandedOut.Add(port);
                result.Add(port);
            }
        }

        return [.. result];
    }

    private static bool IsFree(int port)
    {
        try
        {
            var listener = new TcpListener(IPAddress.Loopback, port);
            listener.Start();
            listener.Stop();
            return true;
        }
        catch (SocketException)
        {
            return false;
        }
    }

    private static (int, int) ComputeRange()
    {
        var ephemeralLow = 32768;
        try
        {
            var text = File.ReadAllText("/proc/sys/net/ipv4/ip_local_port_range").Split((char[])['\t', ' ', '\n'], StringSplitOptions.RemoveEmptyEntries);
            ephemeralLow = int.Parse(text[0], System.Globalization.CultureInfo.InvariantCulture);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or FormatException or IndexOutOfRangeException)
        {
            // not Linux, or not readable: the IANA/Linux default
        }

        var high = Math.Max(ephemeralLow, 12000);
        return (Math.Max(1025, high - 12000), high);
    }
}
