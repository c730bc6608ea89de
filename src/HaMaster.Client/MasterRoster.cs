using System.Collections.Concurrent;

namespace HaMaster.Client;

/// <summary>
/// What the client knows about the cluster: every master address it has heard of (seeds plus
/// members learned from <c>GetClusterInfo</c>), the cached leader, and one cached
/// <see cref="MasterChannel"/> (a Grpc.Net.Client channel with the generated service clients)
/// per address. Thread-safe: the address list is an immutable array swapped atomically, the
/// leader a volatile reference; a stale read only costs a redirect.
/// </summary>
internal sealed class MasterRoster : IDisposable
{
    private readonly ConcurrentDictionary<string, MasterChannel> _channels = new(StringComparer.OrdinalIgnoreCase);
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
    public MasterChannel Channel(string address)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        return _channels.GetOrAdd(address, static (a, tls) => MasterChannel.Open(MasterEndpoint.ToUri(a, tls is not null), tls), _tls);
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
