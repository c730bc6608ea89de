namespace HaMaster.Server.Hosting;

/// <summary>
/// Kestrel's HTTP/2 limits on the client and peer ports, chosen for tens of thousands of mostly
/// idle client connections (the seeds' 30,000 clients) next to a few busy peer streams. Immutable;
/// <see cref="Validate"/> runs when a port starts. The message size limit is
/// <see cref="Configuration.MasterOptions.MaxMessageBytes"/>.
/// </summary>
public sealed record GrpcPortLimits
{
    /// <summary>
    /// Concurrent calls (HTTP/2 streams) per connection (default 1,000; Kestrel's own default of
    /// 100 queues callers that share one connection, as the peer transport and pooled clients do).
    /// </summary>
    public int MaxStreamsPerConnection { get; init; } = 1000;

    /// <summary>
    /// Silence after which the server PINGs a connection (default 30 s); one that does not answer
    /// within <see cref="KeepAlivePingTimeout"/> is closed, so a client that vanished without
    /// closing (power loss, partition) frees its streams.
    /// </summary>
    public TimeSpan KeepAlivePingDelay { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>How long a keep-alive PING may stay unanswered (default 20 s).</summary>
    public TimeSpan KeepAlivePingTimeout { get; init; } = TimeSpan.FromSeconds(20);

    /// <summary>
    /// A connection with no call for this long is closed with GOAWAY (default 5 min; Kestrel's
    /// KeepAliveTimeout). Clients reconnect on their next call; long-lived peer streams keep their
    /// connection busy, so it never applies to them.
    /// </summary>
    public TimeSpan IdleConnectionTimeout { get; init; } = TimeSpan.FromMinutes(5);

    /// <summary>Time a new connection has to send its HTTP/2 preface and request headers (default 10 s; Kestrel's RequestHeadersTimeout).</summary>
    public TimeSpan HandshakeTimeout { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>
    /// Receive window of one stream in bytes (default 768 KiB, Kestrel's). The window bounds what a
    /// connection buffers, not what it allocates up front: an idle connection costs no window memory.
    /// </summary>
    public int StreamWindowBytes { get; init; } = 768 << 10;

    /// <summary>Receive window of one connection across its streams in bytes (default 1 MiB, Kestrel's).</summary>
    public int ConnectionWindowBytes { get; init; } = 1 << 20;

    /// <summary>HPACK dynamic table size the server offers (default 4 KiB, the protocol's default).</summary>
    public int HeaderTableBytes { get; init; } = 4096;

    /// <summary>
    /// Whether the client port HPACK-indexes its response headers (default false; the peer port
    /// always does). Indexing saves about 30 bytes per response but keeps an encoder table of
    /// about 0.7 KiB (8 entries) per connection for as long as it is open, which with tens of
    /// thousands of mostly idle client connections costs more than it saves; each response then
    /// carries its few headers (content-type, grpc-status) as literals.
    /// </summary>
    public bool CompressClientResponseHeaders { get; init; }

    /// <summary>
    /// On shutdown, how long calls in flight may still finish before their connections are
    /// aborted (default 5 s; ASP.NET Core's host would wait 30 s). Long-lived peer streams are
    /// ended by the master before its ports stop, so this bounds only stragglers.
    /// </summary>
    public TimeSpan ShutdownTimeout { get; init; } = TimeSpan.FromSeconds(5);

    // Admission control: applies to the client port only (the peer port carries a few
    // long-lived, trusted streams). See ClientAdmission and README "Overload and limits".

    /// <summary>
    /// Client calls in progress per master, from request headers to the last response byte
    /// (default 1,000). The next call is answered RESOURCE_EXHAUSTED at once, not queued: a
    /// flood of callers gets fast refusals instead of growing queues in front of the Raft loop.
    /// </summary>
    public int MaxCallsInProgress { get; init; } = 1000;

    /// <summary>
    /// Bytes of client request messages received but not yet handed to a handler, summed over
    /// the master (default 64 MiB). A message that would grow the sum past it is refused with
    /// RESOURCE_EXHAUSTED; every call may still buffer <see cref="BufferedBytesAlwaysAllowed"/>.
    /// </summary>
    public long MaxBufferedRequestBytes { get; init; } = 64L << 20;

    /// <summary>
    /// The same sum for one connection (default 16 MiB, two largest messages). A connection
    /// that goes past it is abusive: the call is refused and the connection closed.
    /// </summary>
    public long MaxBufferedRequestBytesPerConnection { get; init; } = 16L << 20;

    /// <summary>
    /// Bytes of one message every call may buffer even when the master's budget is used up
    /// (default 64 KiB), so ordinary small requests are served while large ones are refused.
    /// Bounded by <see cref="MaxCallsInProgress"/>.
    /// </summary>
    public int BufferedBytesAlwaysAllowed { get; init; } = 64 << 10;

    /// <summary>
    /// Time a client call has to deliver its whole request (default 30 s): a caller that sends
    /// part of a message and stalls is refused and its buffered bytes freed.
    /// </summary>
    public TimeSpan RequestBodyTimeout { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>
    /// Concurrent calls per connection on the client port (default 100, Kestrel's default; the
    /// client library opens more connections when one is full). Kestrel counts a stream the
    /// client reset until its handler finishes and sends GOAWAY (ENHANCE_YOUR_CALM) to a client
    /// that keeps opening streams over this, so it also bounds the work one rapid-reset
    /// connection can queue. <see cref="MaxStreamsPerConnection"/> applies to the peer port.
    /// </summary>
    public int MaxStreamsPerClientConnection { get; init; } = 100;

    /// <summary>
    /// Calls one client connection may cancel (RST_STREAM before an answer) per second (default
    /// 200); a connection over it is closed. Rapid reset (CVE-2023-44487) opens and cancels
    /// thousands of streams a second on one connection, each of which still costs a dispatch.
    /// </summary>
    public int MaxStreamResetsPerSecond { get; init; } = 200;

    /// <summary>
    /// Slowest request upload accepted on the client port, bytes per second averaged since the
    /// body started, after a 5 s grace period (default 240, Kestrel's MinRequestBodyDataRate):
    /// a caller that opens a call and sends nothing is cut off after 5 s.
    /// </summary>
    public double MinRequestBodyBytesPerSecond { get; init; } = 240;

    /// <summary>Throws <see cref="ArgumentException"/> naming the first setting out of range.</summary>
    public GrpcPortLimits Validate()
    {
        if (MaxStreamsPerConnection < 1) throw new ArgumentException("MaxStreamsPerConnection must be at least 1.");
        if (KeepAlivePingDelay <= TimeSpan.Zero) throw new ArgumentException("KeepAlivePingDelay must be positive.");
        if (KeepAlivePingTimeout <= TimeSpan.Zero) throw new ArgumentException("KeepAlivePingTimeout must be positive.");
        if (IdleConnectionTimeout <= TimeSpan.Zero) throw new ArgumentException("IdleConnectionTimeout must be positive.");
        if (HandshakeTimeout <= TimeSpan.Zero) throw new ArgumentException("HandshakeTimeout must be positive.");
        // HTTP/2's limits: windows between 64 KiB - 1 (the initial value) and 2^31 - 1.
        if (StreamWindowBytes < 65535) throw new ArgumentException("StreamWindowBytes must be at least 65,535.");
        if (ConnectionWindowBytes < 65535) throw new ArgumentException("ConnectionWindowBytes must be at least 65,535.");
        if (HeaderTableBytes < 0) throw new ArgumentException("HeaderTableBytes must be >= 0.");
        if (ShutdownTimeout < TimeSpan.Zero) throw new ArgumentException("ShutdownTimeout must be >= 0.");
        if (MaxStreamsPerClientConnection < 1) throw new ArgumentException("MaxStreamsPerClientConnection must be at least 1.");
        if (MaxStreamResetsPerSecond < 1) throw new ArgumentException("MaxStreamResetsPerSecond must be at least 1.");
        if (MaxCallsInProgress < 1) throw new ArgumentException("MaxCallsInProgress must be at least 1.");
        if (MaxBufferedRequestBytes < 1024) throw new ArgumentException("MaxBufferedRequestBytes must be at least 1024.");
        if (MaxBufferedRequestBytesPerConnection < 1024) throw new ArgumentException("MaxBufferedRequestBytesPerConnection must be at least 1024.");
        if (BufferedBytesAlwaysAllowed < 0) throw new ArgumentException("BufferedBytesAlwaysAllowed must be >= 0.");
        if (RequestBodyTimeout <= TimeSpan.Zero) throw new ArgumentException("RequestBodyTimeout must be positive.");
        if (MinRequestBodyBytesPerSecond < 0) throw new ArgumentException("MinRequestBodyBytesPerSecond must be >= 0 (0 = off).");
        return this;
    }
}
