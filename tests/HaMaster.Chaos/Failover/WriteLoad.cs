using System.Diagnostics;
using Grpc.Core;
using HaMaster.Chaos.Cluster;
using HaMaster.Protos.V1;

namespace HaMaster.Chaos.Failover;

/// <summary>
/// Closed-loop writers on raw gRPC channels, as the bench's availability probe: writer w starts at
/// master w mod n, sends one CreateFile at a time with a short deadline, and on any failure moves
/// to the next master (a follower forwards writes to the leader). Every success is timestamped
/// (<see cref="Stopwatch"/> ticks), so the gaps a client saw can be computed afterwards.
/// </summary>
internal sealed class WriteLoad
{
    public const string Directory = "/failover";
    private readonly ChaosCluster _cluster;
    private readonly TimeSpan _callTimeout;
    private readonly CancellationTokenSource _stop = new();
    private readonly List<Task> _writers = [];
    private readonly List<long>[] _successes;
    private long _errors;

    public WriteLoad(ChaosCluster cluster, int writers, TimeSpan callTimeout)
    {
        _cluster = cluster;
        _callTimeout = callTimeout;
        _successes = Enumerable.Range(0, writers).Select(_ => new List<long>(1 << 14)).ToArray();
    }

    public long Errors => Interlocked.Read(ref _errors);

    public void Start()
    {
        for (var w = 0; w < _successes.Length; w++)
        {
            var writer = w;
            _writers.Add(Task.Run(() => RunWriterAsync(writer)));
        }
    }

    /// <summary>Stops the writers and returns every success time, sorted. Bounded by the call deadline.</summary>
    public async Task<IReadOnlyList<long>> StopAsync()
    {
        await _stop.CancelAsync();
        await Task.WhenAll(_writers).WaitAsync(_callTimeout + TimeSpan.FromSeconds(30));
        return _successes.SelectMany(s => s).Order().ToArray();
    }

    private async Task RunWriterAsync(int writer)
    {
        var masters = _cluster.Masters;
        var at = writer % masters.Count;
        var mine = _successes[writer];
        for (long n = 0; !_stop.IsCancellationRequested && n < 100_000_000; n++)
        {
            try
            {
                var call = new CallOptions(deadline: DateTime.UtcNow + _callTimeout);
                await _cluster.Channel(masters[at].Id).FileSystem.CreateFileAsync(new CreateFileRequest { Path = $"{Directory}/w{writer}-{n}" }, call);
                mine.Add(Stopwatch.GetTimestamp());
            }
            catch (RpcException)
            {
                Interlocked.Increment(ref _errors);
                at = (at + 1) % masters.Count;

                // A refused connection fails in microseconds: do not spin on a dead master.
                await Task.Delay(10);
            }
        }
    }
}
