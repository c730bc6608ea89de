using System.Net;
using System.Net.Sockets;

namespace HaMaster.Ops.Tests.Infrastructure;

/// <summary>
/// Loopback ports the kernel reports free (bind 127.0.0.1:0, read, release). The listeners of one
/// request stay open until all ports are read, so one request never returns a port twice.
/// </summary>
internal static class FreePorts
{
    public static int[] Take(int count)
    {
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
