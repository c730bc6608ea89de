using System.Diagnostics;
using System.Text.Json;
using HaMaster.Chaos.Core.Linearizability;

namespace HaMaster.Chaos.Core.History;

/// <summary>What became of an operation.</summary>
public enum OpOutcome
{
    /// <summary>Invoked, not yet completed (treated as unknown when checked).</summary>
    Pending,

    /// <summary>Answered; the answer may be a refusal such as "already exists" (that is still an answer).</summary>
    Ok,

    /// <summary>Certainly did not take effect (e.g. rejected before being proposed); left out of the check.</summary>
    Failed,

    /// <summary>May or may not have taken effect (timeout, connection lost).</summary>
    Unknown,
}

/// <summary>One recorded operation. Times are <see cref="TimeSpan"/> ticks since the history started.</summary>
public sealed record HistoryEntry<TInput, TOutput>(
    long Id, int ClientId, TInput Input, long CallTime, OpOutcome Outcome, TOutput? Output, long? ReturnTime, string? Error);

/// <summary>A fault (or any other harness event) with its time in ticks since the history started.</summary>
public sealed record FaultEvent(long Time, string Kind, string Detail);

/// <summary>
/// Records a concurrent client history plus fault events, timestamped by one monotonic clock
/// (<see cref="Stopwatch"/>), for the linearizability check, the summary and a JSON lines file.
/// Thread-safe: any number of clients record concurrently. Record the invocation immediately
/// before sending and the completion immediately after the answer arrives, so that the
/// recorded interval contains the real one.
/// </summary>
public sealed class EventHistory<TInput, TOutput>
{
    private readonly Lock _lock = new();
    private readonly TimeProvider _time;
    private readonly long _origin;
    private readonly List<HistoryEntry<TInput, TOutput>> _entries = [];
    private readonly List<FaultEvent> _faults = [];

    // Every record in the order (and so the time order) it was made, for the JSON lines file:
    // Id >= 0 is an operation (Completion says invoke or completion), Id < 0 is fault ~Id.
    private readonly List<(long Id, bool Completion, long Time)> _journal = [];

    /// <param name="time">The clock (default: the system's monotonic <see cref="Stopwatch"/>-based timestamp); tests pass a manual one.</param>
    public EventHistory(TimeProvider? time = null)
    {
        _time = time ?? TimeProvider.System;
        _origin = _time.GetTimestamp();
    }

    /// <summary>Ticks (100 ns) since the history started; monotonic.</summary>
    public long Now => _time.GetElapsedTime(_origin).Ticks;

    /// <summary>Records an invocation; returns its id for the completion.</summary>
    public long Invoke(int clientId, TInput input)
    {
        lock (_lock)
        {
            var id = _entries.Count;
            var now = Now;
            _entries.Add(new HistoryEntry<TInput, TOutput>(id, clientId, input, now, OpOutcome.Pending, default, null, null));
            _journal.Add((id, false, now));
            return id;
        }
    }

    /// <summary>The operation was answered with <paramref name="output"/>.</summary>
    public void Ok(long id, TOutput output) => Complete(id, OpOutcome.Ok, output, null);

    /// <summary>The operation certainly did not take effect.</summary>
    public void Fail(long id, string reason) => Complete(id, OpOutcome.Failed, default, reason);

    /// <summary>The outcome is unknown: it may have taken effect, now or later, or never.</summary>
    public void Unknown(long id, string reason) => Complete(id, OpOutcome.Unknown, default, reason);

    public void RecordFault(string kind, string detail)
    {
        lock (_lock)
        {
            var now = Now;
            _journal.Add((~(long)_faults.Count, false, now));
            _faults.Add(new FaultEvent(now, kind, detail));
        }
    }

    public IReadOnlyList<HistoryEntry<TInput, TOutput>> Entries()
    {
        lock (_lock)
        {
            return [.. _entries];
        }
    }

    public IReadOnlyList<FaultEvent> Faults()
    {
        lock (_lock)
        {
            return [.. _faults];
        }
    }

    /// <summary>The history as the checker wants it: failed operations dropped, unknown and pending ones open-ended.</summary>
    public IReadOnlyList<Operation<TInput, TOutput>> ToOperations() => HistoryFile.ToOperations(Entries());

    /// <summary>
    /// Writes every record as one JSON object per line, in recording (= time) order: {"type":"invoke"|"ok"|"failed"|"unknown"|"fault", "time":ticks, ...}.
    /// </summary>
    public async ValueTask WriteJsonLinesAsync(string path, CancellationToken cancellationToken = default)
    {
        List<string> lines;
        lock (_lock)
        {
            lines = new List<string>(_journal.Count);
            foreach (var (id, completion, time) in _journal)
            {
                if (id < 0)
                {
                    var f = _faults[(int)~id];
                    lines.Add(JsonSerializer.Serialize(new { type = "fault", time, kind = f.Kind, detail = f.Detail }, HistoryFile.Json));
                    continue;
                }

                var e = _entries[(int)id];
                lines.Add(completion
                    ? JsonSerializer.Serialize(new { type = e.Outcome.ToString().ToLowerInvariant(), time, id, client = e.ClientId, output = e.Output, error = e.Error }, HistoryFile.Json)
                    : JsonSerializer.Serialize(new { type = "invoke", time, id, client = e.ClientId, input = e.Input }, HistoryFile.Json));
            }
        }

        var directory = Path.GetDirectoryName(Path.GetFullPath(path));
        if (directory is not null)
        {
            Directory.CreateDirectory(directory);
        }

        await File.WriteAllLinesAsync(path, lines, cancellationToken);
    }

    private void Complete(long id, OpOutcome outcome, TOutput? output, string? error)
    {
        lock (_lock)
        {
            var entry = _entries[checked((int)id)];
            if (entry.Outcome != OpOutcome.Pending)
            {
                throw new InvalidOperationException($"operation {id} completed twice");
            }

            var now = Now;
            _entries[(int)id] = entry with { Outcome = outcome, Output = output, ReturnTime = outcome == OpOutcome.Unknown ? null : now, Error = error };
            _journal.Add((id, true, now));
        }
    }
}
