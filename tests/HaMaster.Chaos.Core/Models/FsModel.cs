using System.Collections.Immutable;
using HaMaster.Chaos.Core.Linearizability;

namespace HaMaster.Chaos.Core.Models;

/// <summary>
/// The sequential specification of the HaMaster namespace operations the chaos clients run.
/// Deterministic: the answer is a function of state and input, checked in this order:
/// <list type="bullet">
/// <item>create file / mkdir: AlreadyExists (path exists, incl. root), ParentMissing, NotADirectory (parent is a file), else Ok;</item>
/// <item>delete: InvalidArgument (root), NotFound, NotEmpty (directory with children), else Ok (non-recursive);</item>
/// <item>rename src dst: InvalidArgument (src or dst is root), NotFound (src), DestinationExists (dst exists, incl. dst = src),
/// ParentMissing / NotADirectory (dst parent), InvalidArgument (dst inside src), else Ok, moving the subtree;</item>
/// <item>set mode: NotFound, else Ok (the root's mode is fixed: InvalidArgument);</item>
/// <item>get status: NotFound, else Ok + kind + mode (root: directory 0755);</item>
/// <item>list: NotFound, NotADirectory (a file), else Ok + ordinally sorted child names.</item>
/// </list>
/// Partitioning: operations are grouped by the top-level directory of every path they touch,
/// merging groups an operation couples (a rename across top-level directories); an operation on
/// the root (list "/", stat "/") couples everything, so the history is then checked whole.
/// This is sound because each top-level subtree is only observed through its own paths.
/// </summary>
public sealed class FsModel : ISequentialModel<FsState, FsInput, FsOutput>
{
    private readonly FsState _initial;

    /// <param name="initial">The namespace when the history starts (default: only the root).</param>
    public FsModel(FsState? initial = null) => _initial = initial ?? FsState.Empty;

    public FsState Init() => _initial;

    public (bool Ok, FsState Next) Step(FsState state, FsInput input, FsOutput output)
    {
        var (next, expected) = Apply(state, input);
        return expected.Equals(output) ? (true, next) : (false, state);
    }

    public FsState StepUnknown(FsState state, FsInput input) => Apply(state, input).Next;

    public bool IsReadOnly(FsInput input) => !input.IsMutation;

    public bool StateEquals(FsState a, FsState b) => a.Equals(b);

    public int StateHash(FsState state) => state.GetHashCode();

    public string Describe(FsInput input, FsOutput? output, bool outcomeUnknown)
        => outcomeUnknown ? $"{input} -> ? (unknown outcome)" : $"{input} -> {output}";

    public IReadOnlyList<IReadOnlyList<Operation<FsInput, FsOutput>>> Partition(IReadOnlyList<Operation<FsInput, FsOutput>> history)
    {
        if (history.Any(op => TouchesRoot(op.Input)))
        {
            return [history];
        }

        var groups = new TopLevelGroups();
        foreach (var op in history)
        {
            var first = FsPath.TopLevel(op.Input.Path);
            groups.Add(first);
            if (op.Input.Destination is { } destination)
            {
                groups.Union(first, FsPath.TopLevel(destination));
            }
        }

        return history
            .GroupBy(op => groups.Find(FsPath.TopLevel(op.Input.Path)), StringComparer.Ordinal)
            .Select(g => (IReadOnlyList<Operation<FsInput, FsOutput>>)g.ToArray())
            .ToArray();
    }

    private static bool TouchesRoot(FsInput input) => input.Path == FsPath.Root || input.Destination == FsPath.Root;

    /// <summary>The sequential semantics: the next state and the answer the specification gives.</summary>
    public static (FsState Next, FsOutput Output) Apply(FsState state, FsInput input)
    {
        switch (input.Kind)
        {
            case FsOpKind.CreateFile:
            case FsOpKind.Mkdir:
            {
                var refusal = CheckCreatable(state, input.Path, FsStatus.AlreadyExists);
                if (refusal is { } status)
                {
                    return (state, FsOutput.Of(status));
                }

                var kind = input.Kind == FsOpKind.Mkdir ? FsKind.Directory : FsKind.File;
                return (new FsState(state.Nodes.Add(input.Path, new FsNode(kind, input.Mode))), FsOutput.Ok);
            }

            case FsOpKind.Delete:
                if (input.Path == FsPath.Root)
                {
                    return (state, FsOutput.Of(FsStatus.InvalidArgument));
                }

                if (!state.TryGet(input.Path, out var victim))
                {
                    return (state, FsOutput.Of(FsStatus.NotFound));
                }

                if (victim.Kind == FsKind.Directory && state.HasChildren(input.Path))
                {
                    return (state, FsOutput.Of(FsStatus.NotEmpty));
                }

                return (new FsState(state.Nodes.Remove(input.Path)), FsOutput.Ok);

            case FsOpKind.Rename:
                return Rename(state, input.Path, input.Destination ?? throw new ArgumentException("rename without destination", nameof(input)));

            case FsOpKind.SetMode:
                if (input.Path == FsPath.Root)
                {
                    return (state, FsOutput.Of(FsStatus.InvalidArgument));
                }

                if (!state.TryGet(input.Path, out var target))
                {
                    return (state, FsOutput.Of(FsStatus.NotFound));
                }

                return (new FsState(state.Nodes.SetItem(input.Path, target with { Mode = input.Mode })), FsOutput.Ok);

            case FsOpKind.GetStatus:
                return state.TryGet(input.Path, out var found)
                    ? (state, FsOutput.Found(found.Kind, found.Mode))
                    : (state, FsOutput.Of(FsStatus.NotFound));

            case FsOpKind.List:
                if (!state.TryGet(input.Path, out var listed))
                {
                    return (state, FsOutput.Of(FsStatus.NotFound));
                }

                return listed.Kind == FsKind.File
                    ? (state, FsOutput.Of(FsStatus.NotADirectory))
                    : (state, FsOutput.Listing(state.ChildrenOf(input.Path)));

            default:
                throw new ArgumentOutOfRangeException(nameof(input), input.Kind, "unknown operation");
        }
    }

    private static FsStatus? CheckCreatable(FsState state, string path, FsStatus existsStatus)
    {
        if (state.TryGet(path, out _))
        {
            return existsStatus;
        }

        if (!state.TryGet(FsPath.Parent(path), out var parent))
        {
            return FsStatus.ParentMissing;
        }

        return parent.Kind == FsKind.File ? FsStatus.NotADirectory : null;
    }

    private static (FsState, FsOutput) Rename(FsState state, string source, string destination)
    {
        if (source == FsPath.Root || destination == FsPath.Root)
        {
            return (state, FsOutput.Of(FsStatus.InvalidArgument));
        }

        if (!state.TryGet(source, out _))
        {
            return (state, FsOutput.Of(FsStatus.NotFound));
        }

        if (CheckCreatable(state, destination, FsStatus.DestinationExists) is { } refusal)
        {
            return (state, FsOutput.Of(refusal));
        }

        if (FsPath.IsWithin(destination, source))
        {
            return (state, FsOutput.Of(FsStatus.InvalidArgument));
        }

        var builder = state.Nodes.ToBuilder();
        foreach (var (path, node) in state.Nodes.Where(n => FsPath.IsWithin(n.Key, source)))
        {
            builder.Remove(path);
            builder[destination + path[source.Length..]] = node;
        }

        return (new FsState(builder.ToImmutable()), FsOutput.Ok);
    }

    /// <summary>Union-find over top-level directory names.</summary>
    private sealed class TopLevelGroups
    {
        private readonly Dictionary<string, string> _parent = new(StringComparer.Ordinal);

        public void Add(string name) => _parent.TryAdd(name, name);

        public string Find(string name)
        {
            Add(name);
            while (_parent[name] != name)
            {
                _parent[name] = _parent[_parent[name]];
                name = _parent[name];
            }

            return name;
        }

        public void Union(string a, string b)
        {
            var (ra, rb) = (Find(a), Find(b));
            if (ra != rb)
            {
                _parent[ra] = rb;
            }
        }
    }
}
