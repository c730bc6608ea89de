using Grpc.Core;
using HaMaster.Protos.V1;
using FileInfo = HaMaster.Protos.V1.FileInfo;

namespace HaMaster.Client.Tests;

/// <summary>
/// A tiny in-memory namespace with the master's error semantics, for the fake leader. Not a
/// model of the real state machine: just enough for the client and CLI to be exercised.
/// Thread-safe through one lock.
/// </summary>
internal sealed class FakeNamespace
{
    private readonly Lock _gate = new();
    private readonly SortedDictionary<string, FileInfo> _inodes = new(StringComparer.Ordinal);
    private ulong _nextId = 2;

    public FakeNamespace() => _inodes["/"] = new FileInfo { Id = 1, Path = "/", Name = "", Kind = InodeKind.Directory, Mode = 0x1ED, Owner = "root", Group = "root" };

    public int Count
    {
        get
        {
            lock (_gate)
            {
                return _inodes.Count;
            }
        }
    }

    public FileInfo Create(string path, InodeKind kind, bool recursive, uint mode, string owner)
    {
        lock (_gate)
        {
            Validate(path);
            if (_inodes.TryGetValue(path, out var existing))
            {
                if (kind == InodeKind.Directory && recursive && existing.Kind == InodeKind.Directory)
                {
                    return existing.Clone();
                }

                throw new RpcException(new Status(StatusCode.AlreadyExists, $"{path} already exists"));
            }

            var parent = ParentOf(path);
            if (!_inodes.TryGetValue(parent, out var parentInfo))
            {
                if (!recursive)
                {
                    throw new RpcException(new Status(StatusCode.NotFound, $"parent {parent} does not exist"));
                }

                parentInfo = Create(parent, InodeKind.Directory, true, 0, owner);
                parentInfo = _inodes[parent];
            }

            if (parentInfo.Kind != InodeKind.Directory)
            {
                throw new RpcException(new Status(StatusCode.FailedPrecondition, $"{parent} is not a directory"));
            }

            var info = new FileInfo
            {
                Id = _nextId++,
                ParentId = parentInfo.Id,
                Path = path,
                Name = path[(path.LastIndexOf('/') + 1)..],
                Kind = kind,
                Mode = mode != 0 ? mode : kind == InodeKind.Directory ? 0x1EDu : 0x1A4u,
                Owner = owner,
                Group = "staff",
                CreationTimeMs = 1_700_000_000_000,
                ModificationTimeMs = 1_700_000_000_000,
            };
            _inodes[path] = info;
            parentInfo.ChildCount++;
            return info.Clone();
        }
    }

    public FileInfo Get(string path)
    {
        lock (_gate)
        {
            Validate(path);
            return _inodes.TryGetValue(path, out var info) ? info.Clone() : throw new RpcException(new Status(StatusCode.NotFound, $"{path} does not exist"));
        }
    }

    public FileInfo Update(string path, Action<FileInfo> change)
    {
        lock (_gate)
        {
            var info = _inodes.TryGetValue(path, out var found) ? found : throw new RpcException(new Status(StatusCode.NotFound, $"{path} does not exist"));
            change(info);
            return info.Clone();
        }
    }

    public ListStatusResponse List(string path, uint limit, string pageToken)
    {
        lock (_gate)
        {
            var dir = Get(path);
            if (dir.Kind != InodeKind.Directory)
            {
                throw new RpcException(new Status(StatusCode.FailedPrecondition, $"{path} is not a directory"));
            }

            var children = _inodes.Values.Where(i => i.Path != "/" && ParentOf(i.Path) == path)
                .Where(i => string.CompareOrdinal(i.Name, pageToken) > 0)
                .OrderBy(i => i.Name, StringComparer.Ordinal).ToList();
            var take = limit == 0 ? 1000 : (int)limit;
            var response = new ListStatusResponse();
            response.Entries.AddRange(children.Take(take).Select(c => c.Clone()));
            if (children.Count > take)
            {
                response.NextPageToken = response.Entries[^1].Name;
            }

            return response;
        }
    }

    public ulong Delete(string path, bool recursive)
    {
        lock (_gate)
        {
            var info = Get(path);
            var below = _inodes.Keys.Where(k => k.StartsWith(path + "/", StringComparison.Ordinal)).ToList();
            if (below.Count > 0 && !recursive)
            {
                throw new RpcException(new Status(StatusCode.FailedPrecondition, $"{path} is a non-empty directory"));
            }

            foreach (var key in below)
            {
                _inodes.Remove(key);
            }

            _inodes.Remove(path);
            _inodes[ParentOf(path)].ChildCount--;
            return (ulong)below.Count + 1;
        }
    }

    public FileInfo Rename(string source, string destination)
    {
        lock (_gate)
        {
            var info = Get(source);
            if (_inodes.ContainsKey(destination))
            {
                throw new RpcException(new Status(StatusCode.AlreadyExists, $"{destination} already exists"));
            }

            _ = Get(ParentOf(destination));
            _inodes.Remove(source);
            _inodes[ParentOf(source)].ChildCount--;
            info.Path = destination;
            info.Name = destination[(destination.LastIndexOf('/') + 1)..];
            _inodes[destination] = info;
            _inodes[ParentOf(destination)].ChildCount++;
            return info.Clone();
        }
    }

    private static void Validate(string path)
    {
        if (string.IsNullOrEmpty(path) || path[0] != '/' || (path.Length > 1 && path.EndsWith('/')) || path.Contains("//", StringComparison.Ordinal))
        {
            throw new RpcException(new Status(StatusCode.InvalidArgument, $"'{path}' is not an absolute path"));
        }
    }

    private static string ParentOf(string path)
    {
        var slash = path.LastIndexOf('/');
        return slash <= 0 ? "/" : path[..slash];
    }
}
