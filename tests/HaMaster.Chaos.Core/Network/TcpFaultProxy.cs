using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;

namespace HaMaster.Chaos.Core.Network;

/// <summary>
/// A TCP proxy on 127.0.0.1 (ephemeral port) that forwards to <see cref="Target"/> and injects
/// faults at run time: refuse new connections, blackhole one direction or both, add latency
/// and seeded jitter per direction, reset every open connection. Faults apply to existing and
/// new connections alike. All members are thread-safe.
/// Blackhole semantics: bytes are held, not discarded (as in a real partition, TCP delivers them
/// after the partition heals unless the endpoints gave up on the connection first); held bytes
/// fill a small queue and then the kernel buffers, so senders eventually block.
/// </summary>
public sealed class TcpFaultProxy : IAsyncDisposable
{
    private readonly TcpListener _listener;
    private readonly CancellationTokenSource _stopping = new();
    private readonly FlowControl _upstream;
    private readonly FlowControl _downstream;
    private readonly ConcurrentDictionary<ProxyConnection, Task> _connections = new();
    private readonly Task _acceptLoop;
    private EndPoint _target;
    private long _bytesUp;
    private long _bytesDown;
    private long _accepted;
    private long _refused;
    private volatile bool _dropNewConnections;

    private TcpFaultProxy(EndPoint target, int seed)
    {
        _target = target;
        _upstream = new FlowControl(seed);
        _downstream = new FlowControl(unchecked(seed * 31 + 17));
        _listener = new TcpListener(IPAddress.Loopback, 0);
        _listener.Start();
        Endpoint = (IPEndPoint)_listener.LocalEndpoint;
        _acceptLoop = AcceptLoopAsync(_stopping.Token);
    }

    /// <summary>Starts a proxy to <paramref name="target"/>; <paramref name="seed"/> drives the jitter.</summary>
    public static TcpFaultProxy Start(EndPoint target, int seed = 0)
    {
        ArgumentNullException.ThrowIfNull(target);
        return new TcpFaultProxy(target, seed);
    }

    /// <summary>Where clients connect (127.0.0.1 and the port the OS chose).</summary>
    public IPEndPoint Endpoint { get; }

    /// <summary>Where new connections are forwarded; changing it leaves open connections alone (useful after a node restarts on a new port).</summary>
    public EndPoint Target
    {
        get => Volatile.Read(ref _target);
        set => Volatile.Write(ref _target, value ?? throw new ArgumentNullException(nameof(value)));
    }

    /// <summary>When true, new connections are accepted and immediately reset; open ones are untouched.</summary>
    public bool DropNewConnections
    {
        get => _dropNewConnections;
        set => _dropNewConnections = value;
    }

    public int OpenConnections => _connections.Count;

    public long AcceptedConnections => Interlocked.Read(ref _accepted);

    public long RefusedConnections => Interlocked.Read(ref _refused);

    public long BytesForwarded(FlowDirection direction)
        => direction == FlowDirection.ClientToTarget ? Interlocked.Read(ref _bytesUp) : Interlocked.Read(ref _bytesDown);

    public FlowFaults Faults(FlowDirection direction) => Flow(direction).Faults;

    public void SetBlackhole(FlowDirection direction, bool on) => Flow(direction).SetBlackhole(on);

    /// <summary>Blackholes (or un-blackholes) both directions.</summary>
    public void SetBlackhole(bool on)
    {
        _upstream.SetBlackhole(on);
        _downstream.SetBlackhole(on);
    }

    public void SetDelay(FlowDirection direction, TimeSpan latency, TimeSpan jitter = default) => Flow(direction).SetDelay(latency, jitter);

    /// <summary>Adds the same delay to both directions.</summary>
    public void SetDelay(TimeSpan latency, TimeSpan jitter = default)
    {
        _upstream.SetDelay(latency, jitter);
        _downstream.SetDelay(latency, jitter);
    }

    /// <summary>Clears every fault: no blackhole, no delay, new connections accepted.</summary>
    public void Pass()
    {
        _dropNewConnections = false;
        foreach (var flow in new[] { _upstream, _downstream })
        {
            flow.SetDelay(TimeSpan.Zero, TimeSpan.Zero);
            flow.SetBlackhole(false);
        }
    }

    /// <summary>Resets (RST) every open connection; returns how many were open.</summary>
    public int ResetConnections()
    {
        var count = 0;
        foreach (var connection in _connections.Keys)
        {
            connection.Close(reset: true);
            count++;
        }

        return count;
    }

    public async ValueTask DisposeAsync()
    {
        if (_stopping.IsCancellationRequested)
        {
            return;
        }

        _stopping.Cancel();
        _listener.Stop();
        ResetConnections();
        try
        {
            await _acceptLoop;
        }
        catch (OperationCanceledException)
        {
        }

        await Task.WhenAll(_connections.Values).WaitAsync(TimeSpan.FromSeconds(5)).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        _stopping.Dispose();
    }

    private FlowControl Flow(FlowDirection direction) => direction == FlowDirection.ClientToTarget ? _upstream : _downstream;

    private async Task AcceptLoopAsync(CancellationToken stopping)
    {
        while (!stopping.IsCancellationRequested)
        {
            Socket client;
            try
            {
                client = await _listener.AcceptSocketAsync(stopping);
            }
            catch (Exception) when (stopping.IsCancellationRequested)
            {
                return;
            }
            catch (SocketException)
            {
                continue;
            }

            if (_dropNewConnections)
            {
                Interlocked.Increment(ref _refused);
                client.LingerState = new LingerOption(true, 0);
                client.Close();
                continue;
            }

            Interlocked.Increment(ref _accepted);
            _ = ServeAsync(client, stopping);
        }
    }

    private async Task ServeAsync(Socket client, CancellationToken stopping)
    {
        var target = new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        client.NoDelay = true;
        try
        {
            using var connectTimeout = CancellationTokenSource.CreateLinkedTokenSource(stopping);
            connectTimeout.CancelAfter(TimeSpan.FromSeconds(10));
            await target.ConnectAsync(Target, connectTimeout.Token);
        }
        catch (Exception)
        {
            // Target down: the client sees a reset, as it would connecting directly.
            client.LingerState = new LingerOption(true, 0);
            client.Close();
            target.Dispose();
            return;
        }

        var connection = new ProxyConnection(client, target, (direction, bytes) =>
            Interlocked.Add(ref direction == FlowDirection.ClientToTarget ? ref _bytesUp : ref _bytesDown, bytes), stopping);
        var completion = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        _connections[connection] = completion.Task;
        try
        {
            await connection.RunAsync(_upstream, _downstream);
        }
        finally
        {
            connection.Close(reset: false);
            _connections.TryRemove(connection, out _);
            completion.TrySetResult();
        }
    }
}
