using System.Collections.Concurrent;
using System.Globalization;
using HaMaster.Chaos.Core.Processes;
using HaMaster.Client;

namespace HaMaster.Cluster.Tests.Infrastructure;

/// <summary>
/// Writers that keep creating uniquely named files under one directory through the client
/// library until stopped, each with its own <see cref="HaMasterClient"/> (its own exactly-once
/// session) and one write in flight at a time. Records every acknowledged path and every error
/// surfaced to the caller. Thread-safe: the counters and collections are concurrent.
/// </summary>
public sealed class BackgroundWriters : IAsyncDisposable
{
    private readonly CancellationTokenSource _stop = new();
    private readonly Task[] _tasks;
    private readonly ConcurrentQueue<string> _acknowledged = new();
    private readonly ConcurrentQueue<Exception> _errors = new();
    private int _count;

    /// <param name="clients">One client per writer.</param>
    /// <param name="directory">Existing directory the files are created in.</param>
    /// <param name="maxWritesPerWriter">Bound of each writer's loop.</param>
    public BackgroundWriters(IReadOnlyList<HaMasterClient> clients, string directory, int maxWritesPerWriter = 100_000)
    {
        _tasks = clients.Select((client, w) => Task.Run(async () =>
        {
            for (var i = 0; i < maxWritesPerWriter && !_stop.IsCancellationRequested; i++)
            {
                var path = $"{directory}/w{w}-{i.ToString("D6", CultureInfo.InvariantCulture)}";
                try
                {
                    // No cancellation token: a write is never abandoned half-way, so "acknowledged" is exact.
                    await client.CreateFileAsync(path);
                    _acknowledged.Enqueue(path);
                    Interlocked.Increment(ref _count);
                }
                catch (HaMasterException e)
                {
                    _errors.Enqueue(e);
                    return;
                }
            }
        })).ToArray();
    }

    /// <summary>Writes acknowledged so far.</summary>
    public int Count => Volatile.Read(ref _count);

    public IReadOnlyCollection<string> Acknowledged => _acknowledged;

    public IReadOnlyCollection<Exception> Errors => _errors;

    /// <summary>Waits (bounded) until at least <paramref name="count"/> writes in total were acknowledged.</summary>
    public Task WaitForCountAsync(int count, TimeSpan timeout, Func<string>? diagnostics = null) =>
        Eventually.TrueAsync($"{count} acknowledged writes (have {Count}, errors: {string.Join("; ", _errors.Select(e => e.Message))})",
            () => Task.FromResult(Count >= count || _tasks.All(t => t.IsCompleted)), timeout, diagnostics);

    /// <summary>Stops the writers after their current write and waits for them (bounded).</summary>
    public async Task StopAsync(TimeSpan timeout)
    {
        await _stop.CancelAsync();
        await Task.WhenAll(_tasks).WaitAsync(timeout);
    }

    public async ValueTask DisposeAsync()
    {
        try
        {
            await StopAsync(TimeSpan.FromSeconds(60));
        }
        finally
        {
            _stop.Dispose();
        }
    }
}
