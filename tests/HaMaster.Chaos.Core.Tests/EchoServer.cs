using System.Net;
using System.Net.Sockets;

namespace HaMaster.Chaos.Core.Tests;

/// <summary>A loopback TCP server that echoes every byte back; counts bytes received.</summary>
internal sealed class EchoServer : IAsyncDisposable
{
    private readonly TcpListener _listener = new(IPAddress.Loopback, 0);
    private readonly CancellationTokenSource _stop = new();
    private readonly List<Socket> _sockets = [];
    private readonly Task _loop;
    private long _received;

    public EchoServer()
    {
        _listener.Start();
        Endpoint = (IPEndPoint)_listener.LocalEndpoint;
        _loop = AcceptAsync();
    }

    public IPEndPoint Endpoint { get; }

    public long BytesReceived => Interlocked.Read(ref _received);

    public async ValueTask DisposeAsync()
    {
        _stop.Cancel();
        _listener.Stop();
        lock (_sockets)
        {
            foreach (var socket in _sockets)
            {
                socket.Dispose();
            }
        }

        await _loop.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        _stop.Dispose();
    }

    private async Task AcceptAsync()
    {
        while (!_stop.IsCancellationRequested)
        {
            var socket = await _listener.AcceptSocketAsync(_stop.Token);
            lock (_sockets)
            {
                _sockets.Add(socket);
            }

            _ = EchoAsync(socket);
        }
    }

    private async Task EchoAsync(Socket socket)
    {
        var buffer = new byte[4096];
        try
        {
            while (true)
            {
                var read = await socket.ReceiveAsync(buffer, SocketFlags.None, _stop.Token);
                if (read == 0)
                {
                    return;
                }

                Interlocked.Add(ref _received, read);
                await socket.SendAsync(buffer.AsMemory(0, read), SocketFlags.None, _stop.Token);
            }
        }
        catch (Exception)
        {
            // Connection reset or server stopping: the test observes it from the client side.
        }
    }
}

/// <summary>Bounded waits for the network tests.</summary>
internal static class Net
{
    public static readonly TimeSpan Patience = TimeSpan.FromSeconds(10);

    /// <summary>How long a test waits to conclude that bytes are NOT arriving.</summary>
    public static readonly TimeSpan Silence = TimeSpan.FromMilliseconds(300);

    public static async Task<Socket> ConnectAsync(IPEndPoint endpoint)
    {
        var socket = new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        await socket.ConnectAsync(endpoint).WaitAsync(Patience);
        return socket;
    }

    public static async Task SendAsync(Socket socket, string text)
        => await socket.SendAsync(System.Text.Encoding.ASCII.GetBytes(text), SocketFlags.None).WaitAsync(Patience);

    /// <summary>Reads exactly <paramref name="length"/> bytes, or returns null if they do not arrive within <paramref name="within"/>.</summary>
    public static async Task<string?> ReceiveAsync(Socket socket, int length, TimeSpan within)
    {
        var buffer = new byte[length];
        var got = 0;
        using var timeout = new CancellationTokenSource(within);
        try
        {
            while (got < length)
            {
                var read = await socket.ReceiveAsync(buffer.AsMemory(got), SocketFlags.None, timeout.Token);
                if (read == 0)
                {
                    throw new IOException("connection closed");
                }

                got += read;
            }
        }
        catch (OperationCanceledException)
        {
            return got == 0 ? null : System.Text.Encoding.ASCII.GetString(buffer, 0, got);
        }

        return System.Text.Encoding.ASCII.GetString(buffer);
    }

    /// <summary>Polls <paramref name="condition"/> every 10 ms until it holds or <see cref="Patience"/> runs out.</summary>
    public static async Task<bool> EventuallyAsync(Func<bool> condition)
    {
        var deadline = DateTime.UtcNow + Patience;
        while (!condition())
        {
            if (DateTime.UtcNow > deadline)
            {
                return false;
            }

            await Task.Delay(10);
        }

        return true;
    }
}
