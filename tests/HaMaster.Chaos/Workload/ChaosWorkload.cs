using HaMaster.Chaos.Core.History;
using HaMaster.Chaos.Core.Models;

namespace HaMaster.Chaos.Workload;

/// <summary>
/// Concurrent clients, each one operation at a time, recording every invocation immediately
/// before the call and every completion immediately after it in the shared history. A client
/// whose operation ended "unknown" continues under a new history client id (Jepsen's process
/// convention: the lost operation may still be in flight). Library clients also run the
/// <see cref="UniqueLedger"/> workload (every fourth operation). No call is ever cancelled
/// half-way, so "acknowledged" is exact; stopping waits for in-flight calls (bounded by their
/// own timeouts and retry budgets).
/// </summary>
public sealed class ChaosWorkload
{
    private const int MaxOperationsPerClient = 5_000_000;
    private readonly EventHistory<FsInput, FsOutput> _history;
    private readonly PathSpace _paths;
    private readonly UniqueLedger _ledger;
    private readonly TimeSpan _think;
    private readonly CancellationTokenSource _stop = new();
    private readonly List<Task> _clients = [];
    private int _nextClientId;

    public ChaosWorkload(EventHistory<FsInput, FsOutput> history, PathSpace paths, UniqueLedger ledger, TimeSpan thinkTime)
    {
        _history = history;
        _paths = paths;
        _ledger = ledger;
        _think = thinkTime;
    }

    /// <summary>Records <paramref name="input"/> and runs it; used by the clients and by the final reads.</summary>
    public async ValueTask<CallResult> RecordAsync(int clientId, IFsExecutor executor, FsInput input)
    {
        var id = _history.Invoke(clientId, input);
        var result = await executor.RunAsync(input, CancellationToken.None);
        switch (result.Outcome)
        {
            case OpOutcome.Ok:
                _history.Ok(id, result.Output!);
                break;
            case OpOutcome.Failed:
                _history.Fail(id, $"{executor.Name}: {result.Error}");
                break;
            default:
                _history.Unknown(id, $"{executor.Name}: {result.Error}");
                break;
        }

        return result;
    }

    public int NewClientId() => Interlocked.Increment(ref _nextClientId);

    public void Start(IReadOnlyList<IFsExecutor> library, IReadOnlyList<IFsExecutor> raw, int seed)
    {
        var index = 0;
        foreach (var executor in library)
        {
            var random = new Random(HashCode.Combine(seed, index++));
            _clients.Add(Task.Run(() => RunClientAsync(executor, random, readHeavy: false, ledger: true)));
        }

        foreach (var executor in raw)
        {
            var random = new Random(HashCode.Combine(seed, index++));
            _clients.Add(Task.Run(() => RunClientAsync(executor, random, readHeavy: true, ledger: false)));
        }
    }

    /// <summary>Stops issuing operations and waits (bounded) for those in flight.</summary>
    public async Task StopAsync(TimeSpan timeout)
    {
        await _stop.CancelAsync();
        await Task.WhenAll(_clients).WaitAsync(timeout);
    }

    private async Task RunClientAsync(IFsExecutor executor, Random random, bool readHeavy, bool ledger)
    {
        var clientId = NewClientId();
        var uniqueNumber = 0;
        var mine = new Queue<string>();
        for (var n = 0; n < MaxOperationsPerClient && !_stop.IsCancellationRequested; n++)
        {
            CallResult result;
            if (ledger && n % 4 == 3)
            {
                if (mine.Count > 3 && random.Next(3) == 0)
                {
                    var victim = mine.Dequeue();
                    _ledger.DeleteAttempted(victim);
                    result = await RecordAsync(clientId, executor, FsInput.Delete(victim));
                    _ledger.Deleted(victim, result);
                }
                else
                {
                    var path = $"{UniqueLedger.Directory}/{executor.Name}-{uniqueNumber++}";
                    result = await RecordAsync(clientId, executor, FsInput.CreateFile(path));
                    _ledger.Created(path, result);
                    if (result is { Outcome: OpOutcome.Ok, Output.Status: FsStatus.Ok })
                    {
                        mine.Enqueue(path);
                    }
                }
            }
            else
            {
                result = await RecordAsync(clientId, executor, _paths.Next(random, readHeavy));
            }

            if (result.Outcome == OpOutcome.Unknown)
            {
                clientId = NewClientId();
            }

            if (result.Outcome != OpOutcome.Ok)
            {
                // Back off a little after a failure so a dead master is not hammered.
                await Task.Delay(TimeSpan.FromMilliseconds(50 + random.Next(100)));
            }
            else if (_think > TimeSpan.Zero)
            {
                await Task.Delay(TimeSpan.FromTicks((long)(_think.Ticks * random.NextDouble())));
            }
        }
    }
}
