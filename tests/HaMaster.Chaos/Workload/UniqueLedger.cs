using System.Collections.Concurrent;
using HaMaster.Chaos.Core.History;
using HaMaster.Chaos.Core.Models;

namespace HaMaster.Chaos.Workload;

/// <summary>
/// The exactly-once and durability ledger: library clients create files under /u with names
/// nobody else uses, and later delete some of their own acknowledged ones. With unique names
/// every refusal is proof of a bug: ALREADY_EXISTS on a create means the create was applied
/// twice (or a phantom), NOT_FOUND on deleting an acknowledged file means the delete was
/// applied twice (or the create was lost). At the end, every acknowledged create not followed
/// by an attempted delete must be listed, no acknowledged delete may be listed, and nothing
/// may be listed that was never attempted. Thread-safe.
/// </summary>
public sealed class UniqueLedger
{
    public const string Directory = "/u";

    private readonly ConcurrentDictionary<string, Entry> _entries = new(StringComparer.Ordinal);
    private readonly ConcurrentQueue<string> _violations = new();

    public IReadOnlyCollection<string> Violations => _violations;

    public int Count => _entries.Count;

    public void Created(string path, CallResult result)
    {
        var entry = _entries.GetOrAdd(path, _ => new Entry());
        entry.Create = result.Outcome;
        if (result.Outcome == OpOutcome.Ok && result.Output is { Status: not FsStatus.Ok } refusal)
        {
            _violations.Enqueue($"create of the never-used name {path} answered {refusal}: applied twice, or a phantom file");
        }
    }

    public void DeleteAttempted(string path) => _entries.GetOrAdd(path, _ => new Entry()).DeleteAttempted = true;

    public void Deleted(string path, CallResult result)
    {
        var entry = _entries.GetOrAdd(path, _ => new Entry());
        entry.Delete = result.Outcome;
        if (result.Outcome == OpOutcome.Ok && result.Output is { Status: not FsStatus.Ok } refusal)
        {
            _violations.Enqueue($"delete of the acknowledged file {path} answered {refusal}: applied twice, or the create was lost");
        }
    }

    /// <summary>Compares the final listing of <see cref="Directory"/> with the ledger; returns the violations found (also kept).</summary>
    public IReadOnlyList<string> CheckFinal(IReadOnlyCollection<string> listedNames)
    {
        var found = new List<string>();
        var listed = listedNames.Select(n => $"{Directory}/{n}").ToHashSet(StringComparer.Ordinal);
        foreach (var (path, entry) in _entries)
        {
            var present = listed.Contains(path);
            if (entry.Create == OpOutcome.Ok && !entry.DeleteAttempted && !present)
            {
                found.Add($"acknowledged create of {path} is missing at the end");
            }

            if (entry.Delete == OpOutcome.Ok && present)
            {
                found.Add($"acknowledged delete of {path} was undone: the file is listed at the end");
            }

            if (entry.Create is OpOutcome.Failed or OpOutcome.Pending && present)
            {
                found.Add($"{path} is listed although its create certainly failed");
            }
        }

        foreach (var path in listed.Where(p => !_entries.ContainsKey(p)))
        {
            found.Add($"{path} is listed but no client ever created it");
        }

        foreach (var v in found)
        {
            _violations.Enqueue(v);
        }

        return found;
    }

    private sealed class Entry
    {
        public OpOutcome Create { get; set; } = OpOutcome.Pending;

        public bool DeleteAttempted { get; set; }

        public OpOutcome Delete { get; set; } = OpOutcome.Pending;
    }
}
