using System.Collections.Concurrent;
using Grpc.Net.Client;
using HaMaster.Protos.V1;

namespace HaMaster.Client;

/// <summary>
/// What the client knows about the cluster: every master address it has heard of (seeds plus
/// members learned from <c>GetClusterInfo</c>), the cached leader, and one cached
/// <see cref="GrpcChannel"/> (Grpc.Net.Client) with the generated service clients per address. Thread-safe: the address list is an immutable array
/// swapped atomically, the leader a volatile reference; a stale read only costs a redirect.
/// </summary>
internal sealed class MasterRoster : IDisposable
{
    private readonly ConcurrentDictionary<string, MasterStubs> _channels = new(StringComparer.OrdinalIgnoreCase);
    private readonly Lock _gate = new();
    private volatile string[] _known;
    private volatile string? _leader;
    private readonly System.Net.Security.SslClientAuthenticationOptions? _tls;
    private int _cursor;
    private bool _disposed;

    /// <param name="seeds">Initial master addresses.</param>
    /// <param name="tls">Non-null = channels use https:// with these TLS settings.</param>
    public MasterRoster(IEnumerable<string> seeds, System.Net.Security.SslClientAuthenticationOptions? tls = null)
    {
        _tls = tls;
        _known = seeds.Select(MasterEndpoint.Normalize).Distinct(StringComparer.OrdinalIgnoreCase).ToArray();
    }

    /// <summary>Every master address known, seeds first.</summary>
    public IReadOnlyList<string> Known => _known;

    /// <summary>The cached leader's client address, or null when unknown.</summary>
    public string? Leader => _leader;

    /// <summary>Records a leader hint (a <c>hamaster-leader</c> trailer or a cluster answer); returns whether it changed.</summary>
    public bool ObserveLeader(string? address)
    {
        if (!MasterEndpoint.TryNormalize(address, out var normalized))
        {
            return false;
        }

        Learn([normalized]);
        var previous = _leader;
        _leader = normalized;
        return !string.Equals(previous, normalized, StringComparison.OrdinalIgnoreCase);
    }

    /// <summary>Forgets the leader if it is still <paramref name="address"/> (it failed to answer).</summary>
    public void ForgetLeader(string address)
    {
        var current = _leader;
        if (current is not null && string.Equals(current, address, StringComparison.OrdinalIgnoreCase))
        {
            Interlocked.CompareExchange(ref _leader, null, current);
        }
    }

    /// <summary>Adds addresses not yet known (members learned from a cluster answer).</summary>
    public void Learn(IEnumerable<string> addresses)
    {
        lock (_gate)
        {
            var known = _known;
            List<string>? added = null;
            foreach (var address in addresses)
            {
                if (!MasterEndpoint.TryNormalize(address, out var normalized))
                {
                    continue;
                }

                if (!known.Contains(normalized, StringComparer.OrdinalIgnoreCase) && !(added?.Contains(normalized, StringComparer.OrdinalIgnoreCase) ?? false))
                {
                    (added ??= []).Add(normalized);
                }
            }

            if (added is not null)
            {
                _known = [.. known, .. added];
            }
        }
    }

    /// <summary>The next known master in round-robin order (spreads discovery and retries).</summary>
    public string NextCandidate()
    {
        var known = _known;
        var index = (uint)Interlocked.Increment(ref _cursor) % (uint)known.Length;
        return known[index];
    }

    /// <summary>The cached channel and generated clients of <paramref name="address"/>, created on first use.</summary>
    public MasterStubs Stubs(string address)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        return _channels.GetOrAdd(address, static (a, tls) => MasterStubs.Open(MasterEndpoint.ToUri(a, tls is not null), tls), _tls);
    }

    public void Dispose()
    {
        _disposed = true;
        foreach (var channel in _channels.Values)
        {
            channel.Channel.Dispose();
        }

        _channels.Clear();
    }
}

/// <summary>
/// One master's <see cref="GrpcChannel"/> (one <see cref="SocketsHttpHandler"/>: HTTP/2, many
/// concurrent calls as streams of one connection; h2c for http://, TLS for https://) and the
/// generated clients of its three public services.
/// </summary>
public sealed class MasterStubs
{
    private MasterStubs(GrpcChannel channel)
    {
        Channel = channel;
        FileSystem = new FileSystemMaster.FileSystemMasterClient(channel);
        Blocks = new BlockMaster.BlockMasterClient(channel);
        Admin = new ClusterAdmin.ClusterAdminClient(channel);
    }

    public GrpcChannel Channel { get; }

    public FileSystemMaster.FileSystemMasterClient FileSystem { get; }

    public BlockMaster.BlockMasterClient Blocks { get; }

    public ClusterAdmin.ClusterAdminClient Admin { get; }

    /// <summary>Messages up to this size both ways (the masters' default limit; they refuse larger ones).</summary>
    public const int MaxMessageBytes = 16 << 20;

    /// <summary>
    /// A channel to <paramref name="address"/> with the client library's connection settings
    /// (TCP and TLS connect timeout <paramref name="connectTimeout"/>, default 5 s).
    /// </summary>
    public static MasterStubs Open(Uri address, System.Net.Security.SslClientAuthenticationOptions? tls = null, TimeSpan? connectTimeout = null)
    {
        var handler = new SocketsHttpHandler
        {
            EnableMultipleHttp2Connections = true,
            ConnectTimeout = connectTimeout ?? TimeSpan.FromSeconds(5),
            // PING a connection with calls in flight every 30 s: a master that vanished (power
            // loss, partition) fails them after 10 s more instead of at their deadline.
            KeepAlivePingDelay = TimeSpan.FromSeconds(30),
            KeepAlivePingTimeout = TimeSpan.FromSeconds(10),
            KeepAlivePingPolicy = HttpKeepAlivePingPolicy.WithActiveRequests,
            PooledConnectionIdleTimeout = TimeSpan.FromMinutes(2),
            UseProxy = false,
            UseCookies = false,
            AllowAutoRedirect = false,
        };
        if (tls is not null) handler.SslOptions = tls;
        return new MasterStubs(GrpcChannel.ForAddress(address, new GrpcChannelOptions
        {
            HttpHandler = handler,
            DisposeHttpClient = true,
            MaxReceiveMessageSize = MaxMessageBytes,
            MaxSendMessageSize = MaxMessageBytes,
        }));
    }
}
