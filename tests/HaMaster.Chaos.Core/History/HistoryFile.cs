using System.Text.Json;
using System.Text.Json.Serialization;
using HaMaster.Chaos.Core.Linearizability;

namespace HaMaster.Chaos.Core.History;

/// <summary>
/// The JSON lines history format written by <see cref="EventHistory{TInput, TOutput}.WriteJsonLinesAsync"/>,
/// read back so a failing run's history can be re-checked offline.
/// </summary>
public static class HistoryFile
{
    internal static readonly JsonSerializerOptions Json = new()
    {
        Converters = { new JsonStringEnumConverter() },
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    };

    /// <summary>Reads the operations and faults of a history file (inputs and outputs deserialized as <typeparamref name="TInput"/>/<typeparamref name="TOutput"/>).</summary>
    public static async ValueTask<(IReadOnlyList<HistoryEntry<TInput, TOutput>> Entries, IReadOnlyList<FaultEvent> Faults)> ReadAsync<TInput, TOutput>(
        string path, CancellationToken cancellationToken = default)
    {
        var entries = new SortedDictionary<long, HistoryEntry<TInput, TOutput>>();
        var faults = new List<FaultEvent>();
        var lineNumber = 0;
        foreach (var line in await File.ReadAllLinesAsync(path, cancellationToken))
        {
            lineNumber++;
            if (string.IsNullOrWhiteSpace(line))
            {
                continue;
            }

            using var document = JsonDocument.Parse(line);
            var root = document.RootElement;
            var type = root.GetProperty("type").GetString();
            var time = root.TryGetProperty("time", out var t) && t.ValueKind == JsonValueKind.Number ? t.GetInt64() : 0;
            if (type == "fault")
            {
                faults.Add(new FaultEvent(time, root.GetProperty("kind").GetString() ?? string.Empty, root.GetProperty("detail").GetString() ?? string.Empty));
                continue;
            }

            var id = root.GetProperty("id").GetInt64();
            if (type == "invoke")
            {
                var input = root.GetProperty("input").Deserialize<TInput>(Json)
                    ?? throw new InvalidDataException($"{path}:{lineNumber}: invoke without input");
                entries[id] = new HistoryEntry<TInput, TOutput>(id, root.GetProperty("client").GetInt32(), input, time, OpOutcome.Pending, default, null, null);
                continue;
            }

            if (!entries.TryGetValue(id, out var invoked))
            {
                throw new InvalidDataException($"{path}:{lineNumber}: completion of operation {id} before its invocation");
            }

            var outcome = type switch
            {
                "ok" => OpOutcome.Ok,
                "failed" => OpOutcome.Failed,
                "unknown" => OpOutcome.Unknown,
                _ => throw new InvalidDataException($"{path}:{lineNumber}: unknown record type '{type}'"),
            };
            var output = root.TryGetProperty("output", out var o) ? o.Deserialize<TOutput>(Json) : default;
            var error = root.TryGetProperty("error", out var err) ? err.GetString() : null;
            entries[id] = invoked with { Outcome = outcome, Output = output, ReturnTime = outcome == OpOutcome.Unknown ? null : time, Error = error };
        }

        return ([.. entries.Values], faults);
    }

    /// <summary>Operations for the checker: failed ones dropped, unknown and pending ones open-ended.</summary>
    public static IReadOnlyList<Operation<TInput, TOutput>> ToOperations<TInput, TOutput>(IEnumerable<HistoryEntry<TInput, TOutput>> entries)
        => entries
            .Where(e => e.Outcome != OpOutcome.Failed)
            .Select(e => e.Outcome == OpOutcome.Ok
                ? Operation.Completed(e.ClientId, e.Input, e.CallTime, e.Output!, e.ReturnTime!.Value)
                : Operation.Unknown<TInput, TOutput>(e.ClientId, e.Input, e.CallTime))
            .ToArray();
}
