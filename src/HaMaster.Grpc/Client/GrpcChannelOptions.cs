using System.Net.Security;
using HaMaster.Grpc.Protocol;

namespace HaMaster.Grpc;

/// <summary>Client channel settings. Immutable; validated by the <see cref="GrpcChannel"/> constructor.</summary>
public sealed record GrpcChannelOptions
{
    /// <summary>Largest response message accepted, in bytes (default 4 MiB); larger ones fail the call with RESOURCE_EXHAUSTED.</summary>
    public int MaxReceiveMessageBytes { get; init; } = GrpcProtocol.DefaultMaxMessageBytes;

    /// <summary>Largest request message sent, in bytes (default 4 MiB); larger ones fail locally with RESOURCE_EXHAUSTED.</summary>
    public int MaxSendMessageBytes { get; init; } = GrpcProtocol.DefaultMaxMessageBytes;

    /// <summary>TCP (and TLS) connect timeout (default 5 s); a failed connect is UNAVAILABLE.</summary>
    public TimeSpan ConnectTimeout { get; init; } = TimeSpan.FromSeconds(5);

    /// <summary>TLS settings for https:// addresses (e.g. a custom certificate validation callback); null = system defaults.</summary>
    public SslClientAuthenticationOptions? Tls { get; init; }

    /// <summary>Open further HTTP/2 connections when the server's stream limit is reached (default true).</summary>
    public bool EnableMultipleHttp2Connections { get; init; } = true;

    /// <summary>Connections are recycled after this long so DNS and load balancing changes are seen (default 5 min).</summary>
    public TimeSpan PooledConnectionLifetime { get; init; } = TimeSpan.FromMinutes(5);

    /// <summary>Idle connections are closed after this long (default 2 min).</summary>
    public TimeSpan PooledConnectionIdleTimeout { get; init; } = TimeSpan.FromMinutes(2);

    /// <summary>HTTP/2 PING interval while calls are active, to detect dead connections (default 30 s).</summary>
    public TimeSpan KeepAlivePingDelay { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>How long a PING may go unanswered before the connection is dropped (default 10 s).</summary>
    public TimeSpan KeepAlivePingTimeout { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>Throws <see cref="ArgumentOutOfRangeException"/> for non-positive limits or timeouts.</summary>
    public GrpcChannelOptions Validate()
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(MaxReceiveMessageBytes);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(MaxSendMessageBytes);
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(ConnectTimeout, TimeSpan.Zero);
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(PooledConnectionLifetime, TimeSpan.Zero);
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(PooledConnectionIdleTimeout, TimeSpan.Zero);
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(KeepAlivePingDelay, TimeSpan.Zero);
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(KeepAlivePingTimeout, TimeSpan.Zero);
        return this;
    }
}

/// <summary>Per-call settings.</summary>
public sealed record CallOptions
{
    /// <summary>Deadline relative to the call's start: sent as grpc-timeout and enforced locally. Null = none.</summary>
    public TimeSpan? Timeout { get; init; }

    /// <summary>Request metadata (e.g. authorization, session ids).</summary>
    public Metadata? Headers { get; init; }

    /// <summary>Cancels the call: the HTTP/2 stream is reset and the server handler's token fires.</summary>
    public CancellationToken CancellationToken { get; init; }
}

/// <summary>A successful call's response message with the response headers and trailers.</summary>
public readonly record struct GrpcResponse<T>(T Message, Metadata Headers, Metadata Trailers);
