using System.Globalization;
using HaMaster.Client;
using HaMaster.Protos.V1;

namespace HaMaster.Bench.Load;

/// <summary>
/// Drives HaMaster through <see cref="HaMasterClient"/> in raw mode: each measured request goes to
/// one chosen master (<see cref="HaMasterClient.ForMaster"/>), with no retry and no redirect, so
/// the figures are the server's, not the client library's recovery. Preparation uses the normal
/// retrying client.
/// The spread shape sends to each member directly because the client library itself always
/// follows the leader (discovery, then redirects): a client that knows only the seeds and sends
/// where it is pointed is what spread models, so followers forward its writes and serve its
/// linearizable reads by ReadIndex.
/// </summary>
internal sealed class HaMasterBenchTarget : IBenchTarget
{
    private readonly BenchOptions _options;
    private readonly HaMasterClient _client;
    private HaMasterClient[] _direct = [];

    public HaMasterBenchTarget(BenchOptions options, HaMasterClientOptions? clientOptions = null)
    {
        _options = options.Validate();
        _client = new HaMasterClient(clientOptions ?? new HaMasterClientOptions
        {
            Seeds = options.Endpoints,
            CallTimeout = options.CallTimeout,
            ClientId = "bench-" + options.RunId + "-" + Guid.NewGuid().ToString("N")[..8],
        });
    }

    private string Root => "/bench/" + _options.RunId;

    public async ValueTask PrepareAsync(BenchWorkload workload, CancellationToken cancellationToken)
    {
        var cluster = await _client.DiscoverAsync(cancellationToken).ConfigureAwait(false);
        var leader = _client.CachedLeader ?? _client.KnownMasters[0];
        // Members the answering master cannot reach would only add connection errors to the figures.
        var members = cluster.Members.Where(m => m.Role != MasterRole.Unreachable).Select(m => m.ClientAddress).Where(a => MasterEndpoint.TryNormalize(a, out _)).ToList();
        if (members.Count == 0)
        {
            members = [.. _client.KnownMasters];
        }

        _direct = _options.Spread
            ? members.Select(a => _client.ForMaster(a, raw: true)).ToArray()
            : [_client.ForMaster(leader, raw: true)];

        if (workload is BenchWorkload.Write or BenchWorkload.Mixed)
        {
            for (var d = 0; d < _options.Directories; d++)
            {
                await _client.CreateDirectoryAsync(WriteDirectory(d), recursive: true, cancellationToken: cancellationToken).ConfigureAwait(false);
            }
        }

        if (workload is BenchWorkload.Read or BenchWorkload.ReadStale or BenchWorkload.Mixed)
        {
            await FillAsync(Root + "/r", _options.ReadSetSize, cancellationToken).ConfigureAwait(false);
        }

        if (workload is BenchWorkload.List)
        {
            await FillAsync(Root + "/list", _options.ListSize, cancellationToken).ConfigureAwait(false);
        }
    }

    public async ValueTask WriteAsync(long index, CancellationToken cancellationToken)
    {
        var path = WriteDirectory((int)(index % _options.Directories)) + "/f" + index.ToString(CultureInfo.InvariantCulture);
        _ = await Pick(index).CreateFileAsync(new CreateFileRequest { Path = path }, cancellationToken).ConfigureAwait(false);
    }

    public int MemberCount => Math.Max(1, _direct.Length);

    public async ValueTask WriteToAsync(int member, long index, CancellationToken cancellationToken)
    {
        var path = WriteDirectory((int)(index % _options.Directories)) + "/f" + index.ToString(CultureInfo.InvariantCulture);
        _ = await Pick(member).CreateFileAsync(new CreateFileRequest { Path = path }, cancellationToken).ConfigureAwait(false);
    }

    public async ValueTask ReadAsync(long index, bool stale, CancellationToken cancellationToken)
    {
        var path = ReadPath(Root + "/r", index % _options.ReadSetSize);
        _ = await Pick(index).GetStatusAsync(new GetStatusRequest { Path = path, Consistency = stale ? Consistency.Stale : Consistency.Linearizable }, cancellationToken).ConfigureAwait(false);
    }

    public async ValueTask ListAsync(long index, CancellationToken cancellationToken)
    {
        var page = await Pick(index).ListStatusAsync(new ListStatusRequest { Path = Root + "/list", Limit = (uint)_options.ListSize }, cancellationToken).ConfigureAwait(false);
        if (page.Entries.Count != _options.ListSize)
        {
            throw new InvalidOperationException($"listing returned {page.Entries.Count} entries, expected {_options.ListSize}");
        }
    }

    public ValueTask DisposeAsync()
    {
        _client.Dispose();
        return ValueTask.CompletedTask;
    }

    private HaMasterClient Pick(long index) => _direct.Length == 0
        ? throw new InvalidOperationException("PrepareAsync was not called.")
        : _direct[(int)(index % _direct.Length)];

    private string WriteDirectory(int d) => Root + "/d" + d.ToString(CultureInfo.InvariantCulture);

    private static string ReadPath(string directory, long i) => directory + "/f" + i.ToString("d6", CultureInfo.InvariantCulture);

    private async ValueTask FillAsync(string directory, int count, CancellationToken cancellationToken)
    {
        await _client.CreateDirectoryAsync(directory, recursive: true, cancellationToken: cancellationToken).ConfigureAwait(false);
        // Prepared with bounded parallelism: 16 creates in flight.
        await Parallel.ForAsync(0, count, new ParallelOptions { MaxDegreeOfParallelism = 16, CancellationToken = cancellationToken }, async (i, ct) =>
        {
            try
            {
                await _client.CreateFileAsync(ReadPath(directory, i), cancellationToken: ct).ConfigureAwait(false);
            }
            catch (HaMasterAlreadyExistsException)
            {
                // A re-run with the same --run-id reuses what is there.
            }
        }).ConfigureAwait(false);
    }
}
