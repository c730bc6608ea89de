using System.Buffers;
using System.Diagnostics;
using System.Net.Sockets;
using System.Threading.Channels;

namespace HaMaster.Chaos.Core.Network;

/// <summary>
/// One accepted connection and its upstream socket, pumped in both directions. Each direction
/// is a reader (socket -> bounded queue, stamping each chunk with its due time) and a writer
/// (queue -> socket, waiting out blackholes and delays), so delay adds latency without
/// serialising throughput, and a blackhole exerts TCP back-pressure once the queue is full,
/// as a real partition does.
/// </summary>
internal sealed class ProxyConnection
{
    private const int ChunkSize = 16 * 1024;
    private const int QueuedChunks = 16;

    private readonly Socket _client;
    private readonly Socket _target;
    private readonly CancellationTokenSource _stop;
    private readonly Action<FlowDirection, int> _forwarded;
    private int _closed;

    public ProxyConnection(Socket client, Socket target, Action<FlowDirection, int> forwarded, CancellationToken proxyStopping)
    {
        _client = client;
        _target = target;
        _stop = CancellationTokenSource.CreateLinkedTokenSource(proxyStopping);
        _forwarded = forwarded;
    }

    public Task RunAsync(FlowControl upstream, FlowControl downstream)
        => Task.WhenAll(
            PumpAsync(_client, _target, upstream, FlowDirection.ClientToTarget),
            PumpAsync(_target, _client, downstream, FlowDirection.TargetToClient));

    /// <summary>Closes both sockets; with <paramref name="reset"/> an RST is sent instead of a FIN. Idempotent.</summary>
    public void Close(bool reset)
    {
        if (Interlocked.Exchange(ref _closed, 1) != 0)
        {
            return;
        }

        foreach (var socket in new[] { _client, _target })
        {
            try
            {
                if (reset)
                {
                    socket.LingerState = new LingerOption(true, 0);
                }

                socket.Close();
            }
            catch (SocketException)
            {
                // Already torn down by the peer: nothing left to close.
            }
            catch (ObjectDisposedException)
            {
            }
        }

        _stop.Cancel();
        _stop.Dispose();
    }

    private async Task PumpAsync(Socket from, Socket to, FlowControl flow, FlowDirection direction)
    {
        var queue = Channel.CreateBounded<(byte[] Buffer, int Length, long Due)>(
            new BoundedChannelOptions(QueuedChunks) { SingleReader = true, SingleWriter = true });
        CancellationToken token;
        try
        {
            token = _stop.Token;
        }
        catch (ObjectDisposedException)
        {
            return;
        }

        var writer = WriteAsync(queue.Reader, to, flow, direction, token);
        try
        {
            long lastDue = 0;
            while (true)
            {
                var buffer = ArrayPool<byte>.Shared.Rent(ChunkSize);
                var read = await from.ReceiveAsync(buffer.AsMemory(0, ChunkSize), SocketFlags.None, token);
                if (read == 0)
                {
                    ArrayPool<byte>.Shared.Return(buffer);
                    break;
                }

                // Stream order must survive jitter: a chunk is never due before its predecessor.
                var due = Math.Max(lastDue, Stopwatch.GetTimestamp() + (long)(flow.SampleDelay().TotalSeconds * Stopwatch.Frequency));
                lastDue = due;
                await queue.Writer.WriteAsync((buffer, read, due), token);
            }

            queue.Writer.TryComplete();
            await writer;
        }
        catch (Exception) when (_closed != 0 || token.IsCancellationRequested)
        {
            queue.Writer.TryComplete();
        }
        catch (Exception)
        {
            // The source reset (or anything else broke): pass the reset on to the other side.
            queue.Writer.TryComplete();
            Close(reset: true);
        }
        finally
        {
            try
            {
                await writer;
            }
            catch (Exception)
            {
                // The writer's failure already closed the connection.
            }

            while (queue.Reader.TryRead(out var left))
            {
                ArrayPool<byte>.Shared.Return(left.Buffer);
            }
        }
    }

    private async Task WriteAsync(ChannelReader<(byte[] Buffer, int Length, long Due)> queue, Socket to, FlowControl flow, FlowDirection direction, CancellationToken token)
    {
        try
        {
            await foreach (var (buffer, length, due) in queue.ReadAllAsync(token))
            {
                try
                {
                    await flow.WaitPassableAsync(token);
                    var wait = Stopwatch.GetElapsedTime(Stopwatch.GetTimestamp(), due);
                    if (wait > TimeSpan.Zero)
                    {
                        await Task.Delay(wait, token);
                        await flow.WaitPassableAsync(token);
                    }

                    await to.SendAsync(buffer.AsMemory(0, length), SocketFlags.None, token);
                    _forwarded(direction, length);
                }
                finally
                {
                    ArrayPool<byte>.Shared.Return(buffer);
                }
            }

            // Propagate the half-close so request/response protocols see end of stream.
            to.Shutdown(SocketShutdown.Send);
        }
        catch (Exception) when (_closed != 0 || token.IsCancellationRequested)
        {
        }
        catch (Exception)
        {
            Close(reset: true);
        }
    }
}
