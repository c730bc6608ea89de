using System.Net;
using System.Net.Sockets;

namespace HaMaster.Chaos.Core.Network;

/// <summary>
/// Loopback ports the kernel reports free: bind 127.0.0.1:0, read the port, release it. All
/// listeners of one request stay open until every port is read, so one request never returns
/// the same port twice. (Another process could take a port before a master binds it; the
/// master then fails to start and says so.) Shared by every test that starts real masters.
/// </summary>
public static class FreePorts
{
    public static int[] Take(int count)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(count);
        var listeners = new List<TcpListener>(count);
        try
        {
            for (var i = 0; i < count; i++)
            {
                var listener = new TcpListener(IPAddress.Loopback, 0);
                listener.Start();
                listeners.Add(listener);
            }

            return listeners.Select(l => ((IPEndPoint)l.LocalEndpoint).Port).ToArray();
        }
        finally
        {
            foreach (var listener in listeners)
            {
                listener.Stop();
            }
        }
    }
}
