using System.Net.Sockets;

namespace HaMaster.Server.Peers;

/// <summary>
/// Out-of-band failure detection for a silent leader: one TCP connect to its peer port. A refused
/// connection means no process listens there (the master died, or is restarting): strong
/// evidence, unlike a timeout, which a paused, overloaded or partitioned master also produces.
/// Only refusal counts; anything else (accepted, timed out, unreachable network, bad address) is
/// "no evidence" and leaves the normal election timeout in charge.
/// </summary>
internal static class LeaderProbe
{
    /// <summary>True only if connecting to <paramref name="peerAddress"/> (host:port) was actively refused.</summary>
    public static async Task<bool> IsRefusedAsync(string peerAddress, TimeSpan timeout, CancellationToken cancellationToken)
    {
        if (!TrySplit(peerAddress, out var host, out var port)) return false;
        using var socket = new Socket(SocketType.Stream, ProtocolType.Tcp);
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        deadline.CancelAfter(timeout);
        try
        {
            await socket.ConnectAsync(host, port, deadline.Token).ConfigureAwait(false);
            return false;
        }
        catch (SocketException e) when (e.SocketErrorCode == SocketError.ConnectionRefused)
        {
            return true;
        }
        catch (Exception e) when (e is SocketException or OperationCanceledException && !cancellationToken.IsCancellationRequested)
        {
            return false;
        }
    }

    internal static bool TrySplit(string address, out string host, out int port)
    {
        host = "";
        port = 0;
        var colon = address.LastIndexOf(':');
        if (colon <= 0 || !int.TryParse(address.AsSpan(colon + 1), out port) || port is <= 0 or > 65535) return false;
        host = address[..colon].Trim('[', ']');
        return host.Length > 0;
    }
}
