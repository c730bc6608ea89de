using HaMaster.Metadata.Store;
using HaMaster.Protos.V1;

namespace HaMaster.Metadata;

internal enum WalkOutcome
{
    Found,
    Missing,
    NotDirectory,
}

/// <summary>The result of resolving a path component by component: the deepest inode reached and
/// how many components it resolved.</summary>
internal readonly record struct Walk(WalkOutcome Outcome, InodeRecord Last, int Depth)
{
    /// <summary>Resolves <paramref name="components"/> from the root through <paramref name="view"/>
    /// (the apply transaction's or the committed store's).</summary>
    public static Walk Resolve<TView>(TView view, string[] components)
        where TView : INamespaceView
    {
        var current = view.GetInode(Metastore.RootId) ?? throw new InvalidOperationException("the root inode is missing");
        for (var depth = 0; depth < components.Length; depth++)
        {
            if (current.Kind != InodeKind.Directory)
            {
                return new Walk(WalkOutcome.NotDirectory, current, depth);
            }

            var child = view.GetChild(current.Id, components[depth]);
            if (child == 0)
            {
                return new Walk(WalkOutcome.Missing, current, depth);
            }

            current = view.GetInode(child) ?? throw new InvalidOperationException($"edge {current.Id}/{components[depth]} points to missing inode {child}");
        }

        return new Walk(WalkOutcome.Found, current, components.Length);
    }

    /// <summary>The failure for an operation that needs the target itself to exist.</summary>
    public (MetadataStatus Status, string Message) TargetFailure(string path, string[] components) => Outcome switch
    {
        WalkOutcome.NotDirectory => (MetadataStatus.FailedPrecondition, NotDirectoryMessage(path, components)),
        _ => (MetadataStatus.NotFound, $"{path}: does not exist"),
    };

    public string NotDirectoryMessage(string path, string[] components) =>
        $"{path}: {(Depth == components.Length - 1 ? "parent" : "ancestor")} {PathValidator.Prefix(components, Depth)} is not a directory";
}
