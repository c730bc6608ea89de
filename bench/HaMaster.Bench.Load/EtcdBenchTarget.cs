using System.Text;
using Google.Protobuf;
using HaMaster.Bench.Load.Etcd;
using HaMaster.Client;
using Grpc.Core;
using Grpc.Net.Client;

namespace HaMaster.Bench.Load;

/// <summary>
/// Drives an etcd v3 cluster with the same generator: Put of a 16-byte key and a 100-byte value,
/// Range of one key (linearizable, or serializable for the stale workload), and a prefix Range
/// with limit 100. Calls go over a Grpc.Net.Client channel (h2c) with etcd's generated clients,
/// one attempt each, like the raw HaMaster client. Keys are RUNID (8 hex) + kind letter + 7 hex digits = 16 bytes.
/// </summary>
internal sealed class EtcdBenchTarget : IBenchTarget
{
    private readonly BenchOptions _options;
    private readonly GrpcChannel[] _all;
    private readonly Dictionary<GrpcChannel, KV.KVClient> _kv;
    private GrpcChannel[] _channels;
    private readonly ByteString _value = ByteString.CopyFrom(new byte[100]);

    public EtcdBenchTarget(BenchOptions options)
    {
        _options = options.Validate();
        _all = options.Endpoints.Select(e => MasterChannel.Open(MasterEndpoint.ToUri(e)).Channel).ToArray();
        _kv = _all.ToDictionary(c => c, c => new KV.KVClient(c));
        _channels = options.Spread ? _all : [_all[0]];
    }

    public async ValueTask PrepareAsync(BenchWorkload workload, CancellationToken cancellationToken)
    {
        if (!_options.Spread)
        {
            // Like HaMaster's --shape leader: talk to the leader, so neither system pays a forwarding hop.
            _channels = [await FindLeaderAsync(cancellationToken).ConfigureAwait(false) ?? _all[0]];
        }

        if (workload is BenchWorkload.Read or BenchWorkload.ReadStale or BenchWorkload.Mixed)
        {
            await FillAsync('r', _options.ReadSetSize, cancellationToken).ConfigureAwait(false);
        }

        if (workload is BenchWorkload.List)
        {
            await FillAsync('l', _options.ListSize, cancellationToken).ConfigureAwait(false);
        }
    }

    public async ValueTask WriteAsync(long index, CancellationToken cancellationToken) =>
        _ = await Pick(index).PutAsync(new PutRequest { Key = Key('w', index), Value = _value }, CallOptions(cancellationToken)).ConfigureAwait(false);

    public int MemberCount => _channels.Length;

    public async ValueTask WriteToAsync(int member, long index, CancellationToken cancellationToken) =>
        _ = await Pick(member).PutAsync(new PutRequest { Key = Key('w', index), Value = _value }, CallOptions(cancellationToken)).ConfigureAwait(false);

    public async ValueTask ReadAsync(long index, bool stale, CancellationToken cancellationToken)
    {
        var response = await Pick(index).RangeAsync(new RangeRequest { Key = Key('r', index % _options.ReadSetSize), Serializable = stale }, CallOptions(cancellationToken)).ConfigureAwait(false);
        if (response.Kvs.Count != 1)
        {
            throw new InvalidOperationException("etcd Range found no prepared key");
        }
    }

    public async ValueTask ListAsync(long index, CancellationToken cancellationToken)
    {
        var prefix = Prefix('l');
        var request = new RangeRequest { Key = prefix, RangeEnd = PrefixEnd(prefix), Limit = _options.ListSize };
        var response = await Pick(index).RangeAsync(request, CallOptions(cancellationToken)).ConfigureAwait(false);
        if (response.Kvs.Count != _options.ListSize)
        {
            throw new InvalidOperationException($"etcd prefix Range returned {response.Kvs.Count} keys, expected {_options.ListSize}");
        }
    }

    private async ValueTask<GrpcChannel?> FindLeaderAsync(CancellationToken cancellationToken)
    {
        foreach (var channel in _all)
        {
            try
            {
                var status = await new Maintenance.MaintenanceClient(channel).StatusAsync(new StatusRequest(), CallOptions(cancellationToken)).ConfigureAwait(false);
                if (status.Leader != 0 && status.Leader == status.Header?.MemberId)
                {
                    return channel;
                }
            }
            catch (RpcException)
            {
                // A member that does not answer is not the leader we want.
            }
        }

        return null;
    }

    public ValueTask DisposeAsync()
    {
        foreach (var channel in _all)
        {
            channel.Dispose();
        }

        return ValueTask.CompletedTask;
    }

    /// <summary>The 16-byte key of entry <paramref name="index"/> of a kind ('w' write, 'r' read set, 'l' list).</summary>
    internal ByteString Key(char kind, long index) =>
        ByteString.CopyFrom(Encoding.ASCII.GetBytes(_options.RunId + kind + (index & 0xFFFFFFF).ToString("x7", System.Globalization.CultureInfo.InvariantCulture)));

    private ByteString Prefix(char kind) => ByteString.CopyFrom(Encoding.ASCII.GetBytes(_options.RunId + kind));

    /// <summary>etcd's prefix range end: the prefix with its last byte incremented.</summary>
    internal static ByteString PrefixEnd(ByteString prefix)
    {
        var bytes = prefix.ToByteArray();
        bytes[^1]++;
        return ByteString.CopyFrom(bytes);
    }

    private KV.KVClient Pick(long index) => _kv[_channels[(int)(index % _channels.Length)]];

    private CallOptions CallOptions(CancellationToken cancellationToken) => new(deadline: DateTime.UtcNow + _options.CallTimeout, cancellationToken: cancellationToken);

    private async ValueTask FillAsync(char kind, int count, CancellationToken cancellationToken)
    {
        await Parallel.ForAsync(0, count, new ParallelOptions { MaxDegreeOfParallelism = 16, CancellationToken = cancellationToken }, async (i, ct) =>
        {
            // Preparation retries a few times: a freshly started cluster may still be electing.
            for (var attempt = 1; ; attempt++)
            {
                try
                {
                    _ = await Pick(i).PutAsync(new PutRequest { Key = Key(kind, i), Value = _value }, CallOptions(ct)).ConfigureAwait(false);
                    return;
                }
                catch (RpcException ex) when (attempt < 5 && ex.StatusCode is StatusCode.Unavailable or StatusCode.DeadlineExceeded)
                {
                    await Task.Delay(TimeSpan.FromMilliseconds(200 * attempt), ct).ConfigureAwait(false);
                }
            }
        }).ConfigureAwait(false);
    }
}
