using Microsoft.AspNetCore.Connections;
using Microsoft.Extensions.Logging;

namespace HaMaster.Grpc.Http2;

/// <summary>
/// Runs HaMaster's own HTTP/2 protocol on connections accepted by Kestrel's socket transport
/// (and its TLS middleware, when configured): Kestrel accepts, we speak HTTP/2.
/// One timer for the whole server (running only while connections exist) enforces the handshake,
/// keep-alive and idle timeouts of <see cref="Http2ServerLimits"/> (see
/// <see cref="Http2Connection.EnforceTimeouts"/>), so connections themselves keep no timers.
/// </summary>
internal sealed class Http2ConnectionHandler
{
    private readonly Http2Application _application;
    private readonly Http2ServerLimits _limits;
    private readonly ILogger _logger;
    private readonly HashSet<Http2Connection> _connections = [];
    private Timer? _sweeper;

    public Http2ConnectionHandler(Http2Application application, Http2ServerLimits limits, ILogger logger)
    {
        _application = application;
        _limits = limits.Validate();
        _logger = logger;
    }

    /// <summary>Connections being served (for tests and diagnostics).</summary>
    public int ConnectionCount
    {
        get
        {
            lock (_connections) return _connections.Count;
        }
    }

    public async Task OnConnectedAsync(ConnectionContext connection)
    {
        var http2 = new Http2Connection(connection, _application, _limits, _logger);
        lock (_connections)
        {
            _connections.Add(http2);
            _sweeper ??= new Timer(static s => ((Http2ConnectionHandler)s!).Sweep(), this, _limits.SweepInterval, _limits.SweepInterval);
        }

        try
        {
            await http2.RunAsync().ConfigureAwait(false);
        }
        finally
        {
            lock (_connections)
            {
                _connections.Remove(http2);
                if (_connections.Count == 0)
                {
                    _sweeper?.Dispose();
                    _sweeper = null;
                }
            }
        }
    }

    private int _sweeping;

    private void Sweep()
    {
        // Timer callbacks can overlap when the pool is starved: one sweep at a time.
        if (Interlocked.Exchange(ref _sweeping, 1) == 1) return;
        try
        {
            SweepOnce();
        }
        finally
        {
            Volatile.Write(ref _sweeping, 0);
        }
    }

    private void SweepOnce()
    {
        Http2Connection[] all;
        lock (_connections)
        {
            all = [.. _connections];
        }

        var now = Environment.TickCount64;
        foreach (var connection in all)
        {
            try
            {
                connection.EnforceTimeouts(now);
            }
            catch (Exception ex)
            {
                // Typically the connection ended while it was being checked; never let a timer
                // callback take the process down.
                Log.ProtocolError(_logger, "(sweeper)", Http2ErrorCode.InternalError, ex.Message);
            }
        }
    }
}
