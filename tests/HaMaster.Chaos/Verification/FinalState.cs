using System.Diagnostics;
using HaMaster.Chaos.Cluster;
using HaMaster.Chaos.Core.History;
using HaMaster.Chaos.Core.Models;
using HaMaster.Chaos.Workload;
using HaMaster.Client;
using HaMaster.Protos.V1;

namespace HaMaster.Chaos.Verification;

/// <summary>
/// The end of a run, once faults are healed and clients stopped: linearizable reads of every
/// workload path go into the history (so the checker also proves the final state is one the
/// acknowledged operations allow: nothing acknowledged lost, nothing unacknowledged invented),
/// then every master must converge to the same applied index and digest, and list the same
/// names locally (stale reads) as the linearizable listing.
/// </summary>
public sealed class FinalState(ChaosCluster cluster, ChaosWorkload workload, PathSpace paths, HaMasterClient reader, TextWriter? progress)
{
    private const int ReadAttempts = 20;
    private readonly Dictionary<string, IReadOnlyList<string>> _listings = new(StringComparer.Ordinal);

    /// <summary>Records a list of each top-level directory and of its subdirectories, and the status of every path, one read at a time.</summary>
    public async Task ReadFinalStateAsync()
    {
        var executor = new LibraryExecutor("final", reader);
        foreach (var top in paths.TopLevel)
        {
            var inputs = new List<FsInput> { FsInput.List(top) };
            inputs.AddRange(PathSpace.PathsUnder(top).Select(FsInput.GetStatus));
            inputs.AddRange(PathSpace.PathsUnder(top).Where(p => p.Count(c => c == '/') == 2).Select(FsInput.List));
            foreach (var input in inputs)
            {
                for (var attempt = 1; attempt <= ReadAttempts; attempt++)
                {
                    var result = await workload.RecordAsync(workload.NewClientId(), executor, input);
                    if (result.Outcome == OpOutcome.Ok)
                    {
                        if (input.Kind == FsOpKind.List && result.Output!.Children is { } children)
                        {
                            _listings[input.Path] = children;
                        }

                        break;
                    }
                }
            }
        }
    }

    /// <summary>Every name in <paramref name="directory"/> by linearizable reads (page by page).</summary>
    public async Task<IReadOnlyList<string>> ListAsync(string directory)
    {
        var names = new List<string>();
        await foreach (var entry in reader.ListAllAsync(directory))
        {
            names.Add(entry.Name);
        }

        _listings[directory] = names;
        return names;
    }

    /// <summary>
    /// Waits (bounded) until every master reports the same applied index and digest; then
    /// compares each master's local listings with the linearizable ones. Returns the violations and the common applied index.
    /// </summary>
    public async Task<(IReadOnlyList<string> Violations, ulong AppliedIndex)> CheckConvergenceAsync(TimeSpan bound)
    {
        var clock = Stopwatch.StartNew();
        var last = new List<(ulong Id, (ulong AppliedIndex, string Digest)? Digest)>();
        var converged = false;
        for (var attempt = 0; attempt < 10_000 && clock.Elapsed < bound; attempt++)
        {
            last = [];
            foreach (var master in cluster.Masters)
            {
                last.Add((master.Id, await cluster.DigestAsync(master.Id)));
            }

            if (last.All(d => d.Digest is not null) && last.Select(d => d.Digest!.Value).Distinct().Count() == 1)
            {
                converged = true;
                break;
            }

            await Task.Delay(TimeSpan.FromMilliseconds(200));
        }

        var described = string.Join("; ", last.Select(d => d.Digest is { } v ? $"master {d.Id}: applied {v.AppliedIndex} digest {v.Digest}" : $"master {d.Id}: no answer"));
        progress?.WriteLine($"[chaos] convergence: {described}");
        var violations = new List<string>();
        if (!converged)
        {
            // Equal applied indexes with different digests is divergence; otherwise a master never caught up.
            var byIndex = last.Where(d => d.Digest is not null).GroupBy(d => d.Digest!.Value.AppliedIndex);
            var diverged = byIndex.Any(g => g.Select(d => d.Digest!.Value.Digest).Distinct().Count() > 1);
            violations.Add($"{(diverged ? "DIVERGENCE: masters at the same applied index hold different state" : "masters did not converge")} within {bound.TotalSeconds:0} s: {described}");
            return (violations, 0);
        }

        foreach (var master in cluster.Masters)
        {
            using var local = reader.ForMaster(master.ClientAddress);
            foreach (var (directory, expected) in _listings)
            {
                var names = new List<string>();
                try
                {
                    await foreach (var entry in local.ListAllAsync(directory, consistency: Consistency.Stale))
                    {
                        names.Add(entry.Name);
                    }
                }
                catch (HaMasterException e) when (e.Status == global::Grpc.Core.StatusCode.NotFound)
                {
                    // The directory vanished: compared as empty.
                }

                if (!names.Order(StringComparer.Ordinal).SequenceEqual(expected.Order(StringComparer.Ordinal), StringComparer.Ordinal))
                {
                    violations.Add($"master {master.Id} lists {directory} locally as [{string.Join(",", names)}], the cluster as [{string.Join(",", expected)}]");
                }
            }
        }

        return (violations, last[0].Digest!.Value.AppliedIndex);
    }
}
