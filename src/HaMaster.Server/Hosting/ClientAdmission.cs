using System.Collections.Concurrent;
using System.Globalization;
using Grpc.Core;
using HaMaster.Server.Observability;
using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;

namespace HaMaster.Server.Hosting;

/// <summary>
/// Admission control of the client port, in front of grpc-dotnet (an ASP.NET Core middleware,
/// so it runs when a call's headers arrive, before its message is read):
/// <list type="bullet">
/// <item>at most <see cref="GrpcPortLimits.MaxCallsInProgress"/> calls in their handlers (counted by
///   <see cref="Services.AdmissionInterceptor"/>), shared fairly between callers (<see cref="EnterCall"/>);
///   the next one is answered RESOURCE_EXHAUSTED at once, never queued;</item>
/// <item>a connection that cancels more than <see cref="GrpcPortLimits.MaxStreamResetsPerSecond"/>
///   calls a second (rapid reset) is closed;</item>
/// <item>request bytes received but not yet consumed by grpc-dotnet are charged to a master-wide
///   and a per-connection budget (<see cref="BudgetedBodyReader"/>); a call that would exceed the
///   master's budget is refused, a connection that exceeds its own is closed;</item>
/// <item>a call must deliver its whole request within <see cref="GrpcPortLimits.RequestBodyTimeout"/>.</item>
/// </list>
/// Every refusal goes to <see cref="RejectionLog"/> (a counter, and rate-limited log lines).
/// Thread-safe: the byte counters are updated with interlocked operations from Kestrel's threads,
/// the calls in progress under one short lock.
/// </summary>
internal sealed class ClientAdmission
{
    public const string ReasonCallsInProgress = "calls_in_progress";
    public const string ReasonCallerShare = "caller_share";
    public const string ReasonBufferedBytes = "buffered_bytes";
    public const string ReasonConnectionBytes = "connection_bytes";
    public const string ReasonBodyTimeout = "request_body_timeout";
    public const string ReasonStreamResets = "stream_resets";

    private readonly GrpcPortLimits _limits;
    private readonly RejectionLog _rejections;
    private readonly ConcurrentDictionary<string, ConnectionBudget> _connections = new(StringComparer.Ordinal);
    // Calls in progress per caller (only callers holding one) and their sum; both under _gate.
    private readonly Lock _gate = new();
    private readonly Dictionary<string, int> _byCaller = new(StringComparer.Ordinal);
    private int _inProgress;
    private long _buffered;

    public ClientAdmission(GrpcPortLimits limits, RejectionLog rejections)
    {
        _limits = limits.Validate();
        _rejections = rejections;
        CallerCap = Math.Max(1, _limits.MaxCallsInProgress - (_limits.MaxCallsInProgress / 4));
    }

    public GrpcPortLimits Limits => _limits;

    /// <summary>Calls admitted and not finished (a gauge).</summary>
    public int InProgress => Volatile.Read(ref _inProgress);

    /// <summary>Request bytes buffered by admitted calls across the master (a gauge).</summary>
    public long BufferedBytes => Interlocked.Read(ref _buffered);

    /// <summary>One connection's buffered bytes and the means to close it.</summary>
    internal sealed class ConnectionBudget(ConnectionContext connection)
    {
        public long Buffered;
        private readonly Lock _gate = new();
        private long _windowStart = System.Diagnostics.Stopwatch.GetTimestamp();
        private int _resets;
        private int _closed;

        /// <summary>Closes the TCP connection (every stream on it ends); true the first time only.</summary>
        public bool Close(string why)
        {
            if (Interlocked.Exchange(ref _closed, 1) != 0) return false;
            connection.Abort(new ConnectionAbortedException(why));
            return true;
        }

        /// <summary>Counts one stream the client reset; true when the connection is over its limit per second.</summary>
        public bool ResetOverLimit(int perSecond)
        {
            lock (_gate)
            {
                var now = System.Diagnostics.Stopwatch.GetTimestamp();
                if (System.Diagnostics.Stopwatch.GetElapsedTime(_windowStart, now) >= TimeSpan.FromSeconds(1))
                {
                    _windowStart = now;
                    _resets = 0;
                }

                return ++_resets > perSecond;
            }
        }
    }

    /// <summary>Kestrel connection middleware: remembers each connection so an abusive one can be closed.</summary>
    public ConnectionDelegate TrackConnections(ConnectionDelegate next) => async connection =>
    {
        _connections[connection.ConnectionId] = new ConnectionBudget(connection);
        try
        {
            await next(connection).ConfigureAwait(false);
        }
        finally
        {
            _connections.TryRemove(connection.ConnectionId, out _);
        }
    };

    /// <summary>HTTP middleware: admits or refuses one call, and bounds what its request may buffer.</summary>
    public async Task InvokeAsync(HttpContext context, RequestDelegate next)
    {
        _connections.TryGetValue(context.Connection.Id, out var connection);
        if (context.RequestAborted.IsCancellationRequested)
        {
            // Reset by the client before it started (rapid reset): no work, and count it.
            ClientReset(connection);
            return;
        }

        BudgetedBodyReader? body = null;
        try
        {
            if (context.Features.Get<IRequestBodyPipeFeature>() is { } pipe)
            {
                body = new BudgetedBodyReader(pipe.Reader, this, connection);
                context.Features.Set<IRequestBodyPipeFeature>(body);
            }

            await next(context).ConfigureAwait(false);
        }
        finally
        {
            body?.Release();
            if (context.RequestAborted.IsCancellationRequested && !context.Response.HasStarted) ClientReset(connection);
        }
    }

    /// <summary>
    /// Admits one call of <paramref name="caller"/> (the authenticated principal, else the remote
    /// address: <see cref="Services.RateLimitInterceptor.ClientKey"/>) whose request has arrived,
    /// or refuses it with RESOURCE_EXHAUSTED at once (never queued); an admitted call must be
    /// ended with <see cref="ExitCall"/> with the same caller. Calls still receiving their request
    /// are bounded by the byte budgets and the body timeout instead, so slow uploads cannot take
    /// every slot.
    /// <para>
    /// Fair share (max-min): with K callers holding calls, a caller holding fewer than
    /// <see cref="GrpcPortLimits.MaxCallsInProgress"/> / K is admitted while the master is under
    /// its limit; a caller at or over that share only while fewer than
    /// <see cref="CallerCap"/> calls are in progress in total, and no caller ever holds more than
    /// <see cref="CallerCap"/>. So one flooding caller can take at most the cap (3/4 of the limit
    /// by default) and the rest stays for callers within their share; as the flooder's calls end,
    /// their slots go to callers under their share first. O(1) per call under one short lock;
    /// only callers holding calls are remembered, so memory is bounded by the limit.
    /// </para>
    /// </summary>
    public void EnterCall(string caller)
    {
        int held, active, total;
        lock (_gate)
        {
            ref var count = ref System.Runtime.InteropServices.CollectionsMarshal.GetValueRefOrAddDefault(_byCaller, caller, out var known);
            held = count;
            active = _byCaller.Count; // includes this caller
            total = _inProgress;
            var underShare = (long)held * active < _limits.MaxCallsInProgress;
            if (total < _limits.MaxCallsInProgress && held < CallerCap && (underShare || total < CallerCap))
            {
                count = held + 1;
                Volatile.Write(ref _inProgress, total + 1);
                return;
            }

            if (!known) _byCaller.Remove(caller);
        }

        if (total >= _limits.MaxCallsInProgress)
        {
            throw Refused(ReasonCallsInProgress, string.Create(CultureInfo.InvariantCulture, $"the master is serving its limit of {_limits.MaxCallsInProgress} calls; retry later"));
        }

        throw Refused(ReasonCallerShare, held >= CallerCap
            ? string.Create(CultureInfo.InvariantCulture,
                $"caller '{caller}' already has {held} calls in progress, the most one caller may hold ({CallerCap} of the master's {_limits.MaxCallsInProgress}); retry later")
            : string.Create(CultureInfo.InvariantCulture,
                $"caller '{caller}' already has {held} calls in progress, its fair share of the master's {_limits.MaxCallsInProgress} while {active} callers are active; retry later"));
    }

    /// <summary>Ends a call admitted by <see cref="EnterCall"/> for <paramref name="caller"/>.</summary>
    public void ExitCall(string caller)
    {
        lock (_gate)
        {
            ref var count = ref System.Runtime.InteropServices.CollectionsMarshal.GetValueRefOrNullRef(_byCaller, caller);
            if (System.Runtime.CompilerServices.Unsafe.IsNullRef(ref count)) return;
            Volatile.Write(ref _inProgress, _inProgress - 1);
            if (--count == 0) _byCaller.Remove(caller);
        }
    }

    /// <summary>
    /// The most calls one caller may hold, and the total under which a caller over its fair share
    /// is still admitted: <see cref="GrpcPortLimits.MaxCallsInProgress"/> minus a quarter of it
    /// (kept for the other callers), at least 1.
    /// </summary>
    public int CallerCap { get; }

    /// <summary>Callers holding calls now (bounded by the limit: only they are remembered).</summary>
    public int ActiveCallers
    {
        get
        {
            lock (_gate) return _byCaller.Count;
        }
    }

    /// <summary>
    /// A call the client cancelled before any answer: ordinary now and then, but a connection
    /// doing it more than <see cref="GrpcPortLimits.MaxStreamResetsPerSecond"/> times a second is
    /// a rapid-reset flood (each reset stream still costs the master a dispatch) and is closed.
    /// </summary>
    private void ClientReset(ConnectionBudget? connection)
    {
        if (connection is not null && connection.ResetOverLimit(_limits.MaxStreamResetsPerSecond) && connection.Close("too many streams reset by the client"))
        {
            _rejections.Rejected(ReasonStreamResets, string.Create(CultureInfo.InvariantCulture,
                $"a connection reset more than {_limits.MaxStreamResetsPerSecond} streams in a second; closed it"));
        }
    }

    /// <summary>
    /// Charges <paramref name="delta"/> more buffered bytes of a call that would then hold
    /// <paramref name="held"/>; null = granted, else the refusal's reason and message (nothing charged).
    /// </summary>
    internal (string Reason, string Message)? TryCharge(ConnectionBudget? connection, long delta, long held)
    {
        if (delta <= 0)
        {
            Uncharge(connection, -delta);
            return null;
        }

        var total = Interlocked.Add(ref _buffered, delta);
        var perConnection = connection is null ? 0 : Interlocked.Add(ref connection.Buffered, delta);
        if (connection is not null && perConnection > _limits.MaxBufferedRequestBytesPerConnection)
        {
            Uncharge(connection, delta);
            connection.Close("client connection buffered more request bytes than allowed");
            return (ReasonConnectionBytes, string.Create(CultureInfo.InvariantCulture,
                $"this connection holds more than {_limits.MaxBufferedRequestBytesPerConnection} bytes of unfinished request messages; closing it"));
        }

        if (total > _limits.MaxBufferedRequestBytes && held > _limits.BufferedBytesAlwaysAllowed)
        {
            Uncharge(connection, delta);
            return (ReasonBufferedBytes, string.Create(CultureInfo.InvariantCulture,
                $"the master holds more than {_limits.MaxBufferedRequestBytes} bytes of unfinished request messages; retry later"));
        }

        return null;
    }

    internal void Uncharge(ConnectionBudget? connection, long bytes)
    {
        if (bytes == 0) return;
        Interlocked.Add(ref _buffered, -bytes);
        if (connection is not null) Interlocked.Add(ref connection.Buffered, -bytes);
    }

    internal RpcException Refused(string reason, string message)
    {
        _rejections.Rejected(reason, message);
        return new RpcException(new Status(StatusCode.ResourceExhausted, message));
    }
}
