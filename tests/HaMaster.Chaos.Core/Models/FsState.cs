using System.Collections.Immutable;

namespace HaMaster.Chaos.Core.Models;

/// <summary>One inode of the model: kind and permission bits.</summary>
public readonly record struct FsNode(FsKind Kind, int Mode);

/// <summary>
/// An immutable namespace: every existing path except the root, ordinal-sorted, with its node.
/// The hash is computed once; equality is by content.
/// </summary>
public sealed class FsState : IEquatable<FsState>
{
    private readonly int _hash;

    public FsState(ImmutableSortedDictionary<string, FsNode> nodes)
    {
        Nodes = nodes.WithComparers(StringComparer.Ordinal);
        var hash = new HashCode();
        foreach (var (path, node) in Nodes)
        {
            hash.Add(path, StringComparer.Ordinal);
            hash.Add(node);
        }

        _hash = hash.ToHashCode();
    }

    public static FsState Empty { get; } = new(ImmutableSortedDictionary.Create<string, FsNode>(StringComparer.Ordinal));

    public ImmutableSortedDictionary<string, FsNode> Nodes { get; }

    public bool TryGet(string path, out FsNode node)
    {
        if (path == FsPath.Root)
        {
            node = new FsNode(FsKind.Directory, FsInput.DefaultDirectoryMode);
            return true;
        }

        return Nodes.TryGetValue(path, out node);
    }

    public IEnumerable<string> ChildrenOf(string directory)
        => Nodes.Keys.Where(p => p != directory && FsPath.Parent(p) == directory).Select(FsPath.Name);

    public bool HasChildren(string directory) => Nodes.Keys.Any(p => p != directory && FsPath.Parent(p) == directory);

    public bool Equals(FsState? other)
    {
        if (ReferenceEquals(this, other))
        {
            return true;
        }

        return other is not null && other._hash == _hash && other.Nodes.Count == Nodes.Count && Nodes.SequenceEqual(other.Nodes);
    }

    public override bool Equals(object? obj) => Equals(obj as FsState);

    public override int GetHashCode() => _hash;

    public override string ToString()
        => Nodes.Count == 0 ? "{}" : "{" + string.Join(", ", Nodes.Select(n => $"{n.Key}:{(n.Value.Kind == FsKind.Directory ? "d" : "f")}{Convert.ToString(n.Value.Mode, 8)}")) + "}";
}
