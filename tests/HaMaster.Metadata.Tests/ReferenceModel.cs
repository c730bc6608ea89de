using HaMaster.Metadata;
using HaMaster.Protos.V1;
using FileInfo = HaMaster.Protos.V1.FileInfo;

namespace HaMaster.Metadata.Tests;

/// <summary>
/// A deliberately naive in-memory reference of the metadata semantics (a pointer tree walked
/// recursively), written independently of the stores, against which the real state machine is checked.
/// </summary>
internal sealed class ReferenceModel
{
    public sealed class Node
    {
        public ulong Id;
        public Node? Parent;
        public string Name = "";
        public bool IsDirectory;
        public string Owner = "";
        public string Group = "";
        public uint Mode;
        public long CreatedMs;
        public long ModifiedMs;
        public ulong Length;
        public ulong BlockSize;
        public List<ulong> Blocks = [];
        public bool Completed;
        public bool Pinned;
        public long TtlMs;
        public SortedDictionary<string, Node> Children = new(StringComparer.Ordinal);
    }

    public sealed class Worker
    {
        public ulong Id;
        public string Address = "";
        public List<TierUsage> Tiers = [];
        public bool Lost;
        public long RegisteredMs;
    }

    public readonly Node Root = new() { Id = 1, IsDirectory = true, Owner = "root", Group = "root", Mode = 0x1ED };
    public ulong NextInode = 2, NextBlock = 1, NextWorker = 1;
    public readonly SortedDictionary<ulong, (ulong Length, bool Committed)> BlockMeta = [];
    public readonly SortedDictionary<ulong, SortedDictionary<ulong, (string Tier, string Medium)>> Locations = [];
    public readonly SortedDictionary<ulong, Worker> Workers = [];

    public int InodeCount => Count(Root);

    private static int Count(Node n) => 1 + n.Children.Values.Sum(Count);

    private static CommandResult Err(MetadataStatus s, string m) => new() { Status = s, Message = m };

    public static string PathOf(Node n) => n.Parent is null ? "/" : (n.Parent.Parent is null ? "" : PathOf(n.Parent)) + "/" + n.Name;

    public static FileInfo Info(Node n, string path)
    {
        var info = new FileInfo
        {
            Id = n.Id, ParentId = n.Parent?.Id ?? 0, Name = n.Name, Path = path,
            Kind = n.IsDirectory ? InodeKind.Directory : InodeKind.File,
            Owner = n.Owner, Group = n.Group, Mode = n.Mode, CreationTimeMs = n.CreatedMs, ModificationTimeMs = n.ModifiedMs,
            Length = n.Length, BlockSizeBytes = n.BlockSize, Completed = n.Completed, Pinned = n.Pinned, TtlMs = n.TtlMs,
            ChildCount = (ulong)n.Children.Count,
        };
        info.BlockIds.AddRange(n.Blocks);
        return info;
    }

    private static CommandResult Ok(Node n, string path) => new() { Status = MetadataStatus.Ok, FileInfo = Info(n, path) };

    /// <summary>Walk result: the node, or the failure of a path that must exist.</summary>
    private (Node? Node, Node? Parent, CommandResult? Error) Lookup(string path)
    {
        var parts = path == "/" ? [] : path[1..].Split('/');
        var cur = Root;
        for (var i = 0; i < parts.Length; i++)
        {
            if (!cur.IsDirectory)
            {
                var prefix = "/" + string.Join('/', parts.Take(i));
                return (null, null, Err(MetadataStatus.FailedPrecondition, $"{path}: {(i == parts.Length - 1 ? "parent" : "ancestor")} {prefix} is not a directory"));
            }

            if (!cur.Children.TryGetValue(parts[i], out var next))
            {
                if (i == parts.Length - 1)
                {
                    return (null, cur, Err(MetadataStatus.NotFound, $"{path}: does not exist"));
                }

                return (null, null, Err(MetadataStatus.NotFound, $"{path}: does not exist"));
            }

            cur = next;
        }

        return (cur, cur.Parent, null);
    }

    private Node Add(Node parent, string name, bool dir, uint mode, JournalEntry e)
    {
        var n = new Node
        {
            Id = NextInode++, Parent = parent, Name = name, IsDirectory = dir,
            Owner = e.Caller?.User ?? "", Group = e.Caller is { Groups.Count: > 0 } ? e.Caller.Groups[0] : "",
            Mode = mode, CreatedMs = e.TimeMs, ModifiedMs = e.TimeMs,
        };
        parent.Children.Add(name, n);
        parent.ModifiedMs = e.TimeMs;
        return n;
    }

    /// <summary>Create (file or directory) semantics written as "make every ancestor, then the leaf".</summary>
    private CommandResult Create(JournalEntry e, string path, bool recursive, bool dir, uint mode, Func<Node, CommandResult>? finish = null)
    {
        if (PathValidator.Validate(path) is { } bad)
        {
            return Err(MetadataStatus.InvalidArgument, bad);
        }

        if (mode > 0xFFF)
        {
            return Err(MetadataStatus.InvalidArgument, $"mode {Convert.ToString(mode, 8)} is out of range (at most 7777 octal)");
        }

        var parts = path == "/" ? [] : path[1..].Split('/');
        var cur = Root;
        var missingFrom = -1;
        for (var i = 0; i < parts.Length; i++)
        {
            if (!cur.IsDirectory)
            {
                return Err(MetadataStatus.FailedPrecondition, $"{path}: {(i == parts.Length - 1 ? "parent" : "ancestor")} /{string.Join('/', parts.Take(i))} is not a directory");
            }

            if (!cur.Children.TryGetValue(parts[i], out var next))
            {
                missingFrom = i;
                break;
            }

            cur = next;
        }

        if (missingFrom < 0)
        {
            return dir && recursive && cur.IsDirectory ? Ok(cur, path) : Err(MetadataStatus.AlreadyExists, $"{path}: already exists");
        }

        if (missingFrom < parts.Length - 1 && !recursive)
        {
            return Err(MetadataStatus.NotFound, $"{path}: parent /{string.Join('/', parts.Take(parts.Length - 1))} does not exist");
        }

        for (var i = missingFrom; i < parts.Length - 1; i++)
        {
            cur = Add(cur, parts[i], true, 0x1ED, e);
        }

        var leaf = Add(cur, parts[^1], dir, mode == 0 ? (dir ? 0x1EDu : 0x1A4u) : mode, e);
        return finish?.Invoke(leaf) ?? Ok(leaf, path);
    }

    public CommandResult Apply(JournalEntry e)
    {
        switch (e.CommandCase)
        {
            case JournalEntry.CommandOneofCase.CreateDirectory:
                return Create(e, e.CreateDirectory.Path, e.CreateDirectory.Recursive, true, e.CreateDirectory.Mode);
            case JournalEntry.CommandOneofCase.CreateFile:
            {
                var r = e.CreateFile;
                if (PathValidator.Validate(r.Path) is null && r.Mode <= 0xFFF && r.TtlMs < 0)
                {
                    return Err(MetadataStatus.InvalidArgument, "ttl_ms must not be negative");
                }

                return Create(e, r.Path, r.Recursive, false, r.Mode, leaf =>
                {
                    leaf.BlockSize = r.BlockSizeBytes != 0 ? r.BlockSizeBytes : e.DefaultBlockSizeBytes != 0 ? e.DefaultBlockSizeBytes : 64UL << 20;
                    leaf.TtlMs = r.TtlMs;
                    return Ok(leaf, r.Path);
                });
            }

            case JournalEntry.CommandOneofCase.CompleteFile:
            {
                var r = e.CompleteFile;
                if (!OpenFile(r.Path, out var f, out var err))
                {
                    return err!;
                }

                if (r.Length > (ulong)f!.Blocks.Count * f.BlockSize)
                {
                    return Err(MetadataStatus.InvalidArgument, $"{r.Path}: length {r.Length} exceeds the {f.Blocks.Count} allocated blocks of {f.BlockSize} bytes");
                }

                f.Length = r.Length;
                f.Completed = true;
                f.ModifiedMs = e.TimeMs;
                return Ok(f, r.Path);
            }

            case JournalEntry.CommandOneofCase.AllocateBlock:
            {
                if (!OpenFile(e.AllocateBlock.Path, out var f, out var err))
                {
                    return err!;
                }

                var id = NextBlock++;
                BlockMeta[id] = (0, false);
                f!.Blocks.Add(id);
                f.ModifiedMs = e.TimeMs;
                return new CommandResult { BlockId = id };
            }

            case JournalEntry.CommandOneofCase.Delete:
            {
                var r = e.Delete;
                if (PathValidator.Validate(r.Path) is { } bad)
                {
                    return Err(MetadataStatus.InvalidArgument, bad);
                }

                if (r.Path == "/")
                {
                    return Err(MetadataStatus.InvalidArgument, "/: cannot delete the root directory");
                }

                var (n, _, err) = Lookup(r.Path);
                if (n is null)
                {
                    return err!;
                }

                if (n.IsDirectory && n.Children.Count > 0 && !r.Recursive)
                {
                    return Err(MetadataStatus.FailedPrecondition, $"{r.Path}: directory not empty");
                }

                var count = (ulong)Count(n);
                DropBlocks(n);
                n.Parent!.Children.Remove(n.Name);
                n.Parent.ModifiedMs = e.TimeMs;
                return new CommandResult { DeletedCount = count };
            }

            case JournalEntry.CommandOneofCase.Rename:
            {
                var r = e.Rename;
                if ((PathValidator.Validate(r.SrcPath) ?? PathValidator.Validate(r.DstPath)) is { } bad)
                {
                    return Err(MetadataStatus.InvalidArgument, bad);
                }

                if (r.SrcPath == "/")
                {
                    return Err(MetadataStatus.InvalidArgument, "/: cannot rename the root directory");
                }

                var (n, _, err) = Lookup(r.SrcPath);
                if (n is null)
                {
                    return err!;
                }

                if (r.SrcPath == r.DstPath)
                {
                    return Ok(n, r.DstPath);
                }

                if (n.IsDirectory && r.DstPath.StartsWith(r.SrcPath + "/", StringComparison.Ordinal))
                {
                    return Err(MetadataStatus.FailedPrecondition, $"rename {r.SrcPath} to {r.DstPath}: cannot move a directory into itself");
                }

                var (existing, dstParent, dstErr) = Lookup(r.DstPath);
                if (existing is not null)
                {
                    return Err(MetadataStatus.AlreadyExists, $"{r.DstPath}: already exists");
                }

                if (dstParent is null)
                {
                    if (dstErr!.Status == MetadataStatus.NotFound)
                    {
                        var parts = r.DstPath[1..].Split('/');
                        return Err(MetadataStatus.NotFound, $"{r.DstPath}: parent /{string.Join('/', parts.Take(parts.Length - 1))} does not exist");
                    }

                    return dstErr;
                }

                n.Parent!.Children.Remove(n.Name);
                n.Parent.ModifiedMs = e.TimeMs;
                n.Name = r.DstPath[(r.DstPath.LastIndexOf('/') + 1)..];
                n.Parent = dstParent;
                dstParent.Children.Add(n.Name, n);
                dstParent.ModifiedMs = e.TimeMs;
                return Ok(n, r.DstPath);
            }

            case JournalEntry.CommandOneofCase.SetAttribute:
            {
                var r = e.SetAttribute;
                if (PathValidator.Validate(r.Path) is { } bad)
                {
                    return Err(MetadataStatus.InvalidArgument, bad);
                }

                if (r.HasMode && r.Mode > 0xFFF)
                {
                    return Err(MetadataStatus.InvalidArgument, $"mode {Convert.ToString(r.Mode, 8)} is out of range (at most 7777 octal)");
                }

                if (r.HasOwner && r.Owner.Length == 0)
                {
                    return Err(MetadataStatus.InvalidArgument, "owner must not be empty");
                }

                var (n, _, err) = Lookup(r.Path);
                if (n is null)
                {
                    return err!;
                }

                void Set(Node x)
                {
                    if (r.HasOwner) { x.Owner = r.Owner; }
                    if (r.HasGroup) { x.Group = r.Group; }
                    if (r.HasMode) { x.Mode = r.Mode; }
                    if (r.HasPinned) { x.Pinned = r.Pinned; }
                    if (r.HasTtlMs) { x.TtlMs = r.TtlMs; }
                    if (r.Recursive)
                    {
                        foreach (var c in x.Children.Values)
                        {
                            Set(c);
                        }
                    }
                }

                Set(n);
                return Ok(n, r.Path);
            }

            case JournalEntry.CommandOneofCase.RegisterWorker:
            {
                var r = e.RegisterWorker;
                if (r.Address.Length == 0)
                {
                    return Err(MetadataStatus.InvalidArgument, "worker address must not be empty");
                }

                var w = Workers.Values.FirstOrDefault(x => x.Address == r.Address);
                if (w is null)
                {
                    w = new Worker { Id = NextWorker++, Address = r.Address };
                    Workers[w.Id] = w;
                }

                DropWorkerLocations(w.Id);
                w.Lost = false;
                w.RegisteredMs = e.TimeMs;
                w.Tiers = r.Tiers.Select(t => t.Clone()).ToList();
                foreach (var b in r.BlockIds.Distinct().Where(BlockMeta.ContainsKey))
                {
                    LocationsOf(b)[w.Id] = (r.TierOfReportedBlocks, "");
                }

                return new CommandResult { WorkerId = w.Id };
            }

            case JournalEntry.CommandOneofCase.CommitBlock:
            {
                var r = e.CommitBlock;
                if (!Workers.TryGetValue(r.WorkerId, out var w) || w.Lost)
                {
                    return Err(MetadataStatus.NotFound, $"worker {r.WorkerId} is not registered");
                }

                if (!BlockMeta.ContainsKey(r.BlockId))
                {
                    return Err(MetadataStatus.NotFound, $"block {r.BlockId} does not exist");
                }

                BlockMeta[r.BlockId] = (r.Length, true);
                LocationsOf(r.BlockId)[r.WorkerId] = (r.Tier, r.Medium);
                foreach (var t in w.Tiers.Where(t => t.Tier == r.Tier))
                {
                    t.UsedBytes = r.UsedBytesOnTier;
                }

                return new CommandResult();
            }

            case JournalEntry.CommandOneofCase.RemoveBlockLocations:
            {
                var r = e.RemoveBlockLocations;
                if (!Workers.ContainsKey(r.WorkerId))
                {
                    return Err(MetadataStatus.NotFound, $"worker {r.WorkerId} is not registered");
                }

                ulong removed = 0;
                foreach (var b in r.BlockIds)
                {
                    if (Locations.TryGetValue(b, out var l) && l.Remove(r.WorkerId))
                    {
                        removed++;
                    }
                }

                return new CommandResult { RemovedCount = removed };
            }

            case JournalEntry.CommandOneofCase.MarkWorkerLost:
            {
                var id = e.MarkWorkerLost.WorkerId;
                if (!Workers.TryGetValue(id, out var w))
                {
                    return Err(MetadataStatus.NotFound, $"worker {id} is not registered");
                }

                DropWorkerLocations(id);
                w.Lost = true;
                return new CommandResult { WorkerId = id };
            }

            default:
                return Err(MetadataStatus.InvalidArgument, "journal entry carries no known command");
        }
    }

    public ulong WorkerBlockCount(ulong workerId) => (ulong)Locations.Values.Count(l => l.ContainsKey(workerId));

    private SortedDictionary<ulong, (string, string)> LocationsOf(ulong block)
    {
        if (!Locations.TryGetValue(block, out var l))
        {
            Locations[block] = l = [];
        }

        return l;
    }

    private void DropWorkerLocations(ulong workerId)
    {
        foreach (var l in Locations.Values)
        {
            l.Remove(workerId);
        }
    }

    private void DropBlocks(Node n)
    {
        foreach (var b in n.Blocks)
        {
            BlockMeta.Remove(b);
            Locations.Remove(b);
        }

        foreach (var c in n.Children.Values)
        {
            DropBlocks(c);
        }
    }

    private bool OpenFile(string path, out Node? file, out CommandResult? error)
    {
        file = null;
        if (PathValidator.Validate(path) is { } bad)
        {
            error = Err(MetadataStatus.InvalidArgument, bad);
            return false;
        }

        var (n, _, err) = Lookup(path);
        if (n is null)
        {
            error = err;
            return false;
        }

        if (n.IsDirectory)
        {
            error = Err(MetadataStatus.FailedPrecondition, $"{path}: is a directory, not a file");
            return false;
        }

        if (n.Completed)
        {
            error = Err(MetadataStatus.FailedPrecondition, $"{path}: file is already complete");
            return false;
        }

        file = n;
        error = null;
        return true;
    }
}
