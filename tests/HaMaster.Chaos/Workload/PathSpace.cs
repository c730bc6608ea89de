using System.Collections.Immutable;
using HaMaster.Chaos.Core.Models;

namespace HaMaster.Chaos.Workload;

/// <summary>
/// The small namespace the checked workload works on: top-level directories /t0../t{K-1}
/// (created before the history starts and never touched by the workload) and below each the
/// paths a, b, c, a/x, b/x. Few paths means many conflicts, which is what finds bugs. Every
/// operation stays inside one top-level directory, so each is its own partition of the check.
/// Generation is deterministic in the <see cref="Random"/> it is given.
/// </summary>
public sealed class PathSpace(int topDirectories)
{
    private static readonly string[] Leaves = ["a", "b", "c"];
    private static readonly string[] Nested = ["a", "b", "c", "a/x", "b/x"];
    private static readonly int[] Modes = [384, 420, 448, 493]; // 0600 0644 0700 0755

    public IReadOnlyList<string> TopLevel { get; } = Enumerable.Range(0, topDirectories).Select(i => $"/t{i}").ToArray();

    /// <summary>Every path the workload can touch under <paramref name="top"/>, for the final reads.</summary>
    public static IEnumerable<string> PathsUnder(string top) => Nested.Select(p => $"{top}/{p}");

    /// <summary>The model state when the history starts: the top-level directories.</summary>
    public FsState InitialState() => new(TopLevel.Aggregate(
        ImmutableSortedDictionary.Create<string, FsNode>(StringComparer.Ordinal),
        (nodes, top) => nodes.Add(top, new FsNode(FsKind.Directory, FsInput.DefaultDirectoryMode))));

    public FsInput Next(Random random, bool readHeavy)
    {
        var top = TopLevel[random.Next(TopLevel.Count)];
        string Any() => $"{top}/{Nested[random.Next(Nested.Length)]}";
        var roll = random.Next(100);
        if (readHeavy)
        {
            roll = roll < 50 ? 60 + (roll % 40) : roll - 50;
        }

        return roll switch
        {
            < 14 => FsInput.CreateFile(Any()),
            < 24 => FsInput.Mkdir(Any()),
            < 38 => FsInput.Delete(Any()),
            < 50 => Rename(random, top),
            < 60 => FsInput.SetMode(Any(), Modes[random.Next(Modes.Length)]),
            < 80 => FsInput.GetStatus(Any()),
            _ => FsInput.List(random.Next(3) == 0 ? top : $"{top}/{Leaves[random.Next(2)]}"),
        };
    }

    /// <summary>A rename whose destination is a different direct child of the top-level directory (its parent always exists).</summary>
    private static FsInput Rename(Random random, string top)
    {
        var source = Nested[random.Next(Nested.Length)];
        string destination;
        do
        {
            destination = Leaves[random.Next(Leaves.Length)];
        }
        while (destination == source);

        return FsInput.Rename($"{top}/{source}", $"{top}/{destination}");
    }
}
