using System.Collections.Concurrent;
using System.Diagnostics;
using Grpc.Core;

namespace HaMaster.Server.Services;

/// <summary>
/// Per-client request rate limit (token bucket). A client is the authenticated principal (its
/// user, wherever it connects from) when the client port authenticates (<c>--auth tls/jwt</c>);
/// with <c>--auth simple</c> the user name is only a claim, so the client is the remote IP
/// address and every caller there shares one budget: rotating <c>hamaster-user</c> names does
/// not multiply it. Calls beyond the rate get RESOURCE_EXHAUSTED with the limit in the message,
/// so one runaway client cannot starve the others. Runs after the identity interceptor.
/// Thread-safe.
/// </summary>
internal sealed class RateLimitInterceptor : CallInterceptor
{
    private readonly double _ratePerSecond;
    private readonly double _burst;
    private readonly ConcurrentDictionary<string, Bucket> _buckets = new(StringComparer.Ordinal);

    private sealed class Bucket(double tokens, long stamp)
    {
        public double Tokens = tokens;
        public long Stamp = stamp;
    }

    public RateLimitInterceptor(double ratePerSecond, double burst)
    {
        if (ratePerSecond <= 0) throw new ArgumentOutOfRangeException(nameof(ratePerSecond), "must be positive");
        _ratePerSecond = ratePerSecond;
        _burst = Math.Max(1, burst);
    }

    protected override Task<T> InterceptAsync<T>(ServerCallContext context, Func<Task<T>> continuation)
    {
        var key = ClientKey(context);
        var now = Stopwatch.GetTimestamp();
        var bucket = _buckets.GetOrAdd(key, _ => new Bucket(_burst, now));
        bool allowed;
        lock (bucket)
        {
            var elapsed = (now - bucket.Stamp) / (double)Stopwatch.Frequency;
            bucket.Tokens = Math.Min(_burst, bucket.Tokens + elapsed * _ratePerSecond);
            bucket.Stamp = now;
            allowed = bucket.Tokens >= 1;
            if (allowed) bucket.Tokens -= 1;
        }

        if (!allowed)
        {
            throw new RpcException(new Status(StatusCode.ResourceExhausted, $"rate limit exceeded for client '{key}': at most {_ratePerSecond:0.#} requests/s (burst {_burst:0})"));
        }

        if (_buckets.Count > 100_000) Trim(now);
        return continuation();
    }

    internal static string ClientKey(ServerCallContext context)
    {
        if (CallerIdentity.IsAuthenticated(context)) return $"user {CallerIdentity.From(context).User}";

        // context.Peer is "ipv4:1.2.3.4:5678" or "ipv6:[::1]:5678": drop the port.
        var peer = context.Peer;
        var colon = peer.LastIndexOf(':');
        var host = colon > 0 ? peer[..colon] : peer;
        return $"address {host}";
    }

    private void Trim(long now)
    {
        foreach (var (key, bucket) in _buckets)
        {
            if ((now - bucket.Stamp) / (double)Stopwatch.Frequency > 60) _buckets.TryRemove(key, out _);
        }
    }
}
