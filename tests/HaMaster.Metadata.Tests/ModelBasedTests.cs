using FileInfo = HaMaster.Protos.V1.FileInfo;
using HaMaster.Chaos.Core.Files;
using HaMaster.Protos.V1;

namespace HaMaster.Metadata.Tests;

/// <summary>Random operation sequences applied to the real state machine (every store kind) and to
/// <see cref="ReferenceModel"/>: every result and the final tree, blocks and workers must match.</summary>
public sealed class ModelBasedTests
{
    private static readonly string[] Names = ["a", "b", "c", "B", "ä", "x1"];

    private static readonly string[] InvalidPaths = ["", "a/b", "/a//b", "/a/", "/a/./b", "/a/..", "/a\0b"];

    public static TheoryData<string, int> Cases()
    {
        var data = new TheoryData<string, int>();
        foreach (var kind in new[] { "rocks", "heap", "caching-tiny" })
        {
            foreach (var seed in new[] { 1, 2, 3 })
            {
                data.Add(kind, seed);
            }
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void RandomOperationsMatchTheReferenceModel(string kind, int seed)
    {
        using var dir = new TempDirectory();
        using var sm = MetadataStateMachine.Open(dir.Sub("data"), StoreKinds.Options(kind));
        var model = new ReferenceModel();
        var random = new Random(seed);
        var factory = new EntryFactory();
        const int operations = 1200;
        var step = 0;
        while (step < operations)
        {
            var batchSize = random.Next(1, 9);
            var batch = new List<(ulong, ulong, JournalEntry)>();
            for (var i = 0; i < batchSize && step < operations; i++, step++)
            {
                batch.Add(factory.Indexed(RandomEntry(random, factory, model)));
            }

            var results = sm.ApplyBatch(batch);
            for (var i = 0; i < batch.Count; i++)
            {
                var expected = model.Apply(batch[i].Item3);
                Assert.True(expected.Equals(results[i]), $"seed {seed} step {step - batch.Count + i}: {batch[i].Item3}\nexpected {expected}\nactual   {results[i]}");
            }
        }

        Assert.Equal(factory.NextIndex - 1, sm.AppliedIndex);
        AssertSameState(sm, model);
    }

    [Fact]
    public void AllStoreKindsReachTheSameDigest()
    {
        var digests = new List<string>();
        foreach (var kind in new[] { "rocks", "heap", "caching-tiny" })
        {
            using var dir = new TempDirectory();
            using var sm = MetadataStateMachine.Open(dir.Sub("data"), StoreKinds.Options(kind));
            var model = new ReferenceModel();
            var random = new Random(42);
            var factory = new EntryFactory();
            for (var i = 0; i < 600; i++)
            {
                var entry = RandomEntry(random, factory, model);
                model.Apply(entry);
                sm.Apply(factory, entry);
            }

            digests.Add(sm.Digest());
        }

        Assert.Equal(digests[0], digests[1]);
        Assert.Equal(digests[0], digests[2]);
    }

    internal static void AssertSameState(MetadataStateMachine sm, ReferenceModel model)
    {
        AssertSubtree(sm, model.Root, "/");
        Assert.Equal((ulong)model.InodeCount, sm.Counts.Inodes);
        Assert.Equal((ulong)model.BlockMeta.Count, sm.Counts.Blocks);
        foreach (var (id, meta) in model.BlockMeta)
        {
            var info = sm.GetBlockInfo(id);
            Assert.True(info.IsOk, info.Message);
            Assert.Equal(meta.Length, info.Value!.Length);
            var expected = model.Locations.TryGetValue(id, out var l) ? l.Select(x => (x.Key, x.Value.Tier, x.Value.Medium)).ToList() : [];
            Assert.Equal(expected, info.Value.Locations.Select(x => (x.WorkerId, x.Tier, x.Medium)).ToList());
        }

        var workers = sm.ListWorkers();
        Assert.Equal(model.Workers.Keys.ToList(), workers.Select(w => w.Id).ToList());
        foreach (var worker in workers)
        {
            var m = model.Workers[worker.Id];
            Assert.Equal(m.Address, worker.Address);
            Assert.Equal(m.Lost ? WorkerState.Lost : WorkerState.Live, worker.State);
            Assert.Equal(m.RegisteredMs, worker.RegisteredAtMs);
            Assert.Equal(model.WorkerBlockCount(worker.Id), worker.BlockCount);
            Assert.Equal(m.Tiers, worker.Tiers.ToList());
            Assert.Equal(worker.Id, sm.FindWorkerByAddress(m.Address)?.Id);
        }
    }

    private static void AssertSubtree(MetadataStateMachine sm, ReferenceModel.Node node, string path)
    {
        var status = sm.GetStatus(path);
        Assert.True(status.IsOk, status.Message);
        Assert.Equal(ReferenceModel.Info(node, path), status.Value);
        if (!node.IsDirectory)
        {
            return;
        }

        var listed = new List<FileInfo>();
        string? token = null;
        for (var page = 0; page < 1000; page++)
        {
            var result = sm.ListStatus(path, 2, token);
            Assert.True(result.IsOk, result.Message);
            listed.AddRange(result.Value!.Entries);
            token = result.Value.NextPageToken;
            if (token.Length == 0)
            {
                break;
            }
        }

        var expected = node.Children.Values.Select(c => ReferenceModel.Info(c, path == "/" ? "/" + c.Name : path + "/" + c.Name)).ToList();
        Assert.Equal(expected, listed);
        foreach (var child in node.Children.Values)
        {
            AssertSubtree(sm, child, path == "/" ? "/" + child.Name : path + "/" + child.Name);
        }
    }

    private static string RandomPath(Random random)
    {
        if (random.Next(40) == 0)
        {
            return InvalidPaths[random.Next(InvalidPaths.Length)];
        }

        var depth = random.Next(1, 4);
        return "/" + string.Join('/', Enumerable.Range(0, depth).Select(_ => Names[random.Next(Names.Length)]));
    }

    internal static JournalEntry RandomEntry(Random random, EntryFactory f, ReferenceModel model)
    {
        if (random.Next(4) == 0)
        {
            f.Caller = new Caller { User = random.Next(2) == 0 ? "alice" : "bob", Groups = { random.Next(2) == 0 ? "staff" : "ops" } };
        }

        var path = RandomPath(random);
        var existingFile = RandomFile(random, model);
        switch (random.Next(17))
        {
            case 0:
            case 1:
                return f.Mkdir(path, random.Next(2) == 0, random.Next(8) == 0 ? 0x1C0u : 0);
            case 2:
            case 3:
                return f.Create(path, random.Next(2) == 0, 0, random.Next(3) == 0 ? 512u : 0);
            case 4:
                return f.Complete(existingFile ?? path, (ulong)random.Next(0, 3000));
            case 5:
                return f.Delete(path, random.Next(2) == 0);
            case 6:
            case 7:
                return f.Rename(path, random.Next(5) == 0 ? path + "/" + Names[random.Next(Names.Length)] : RandomPath(random));
            case 8:
                return f.Entry(e =>
                {
                    e.SetAttribute = new() { Path = path, Recursive = random.Next(2) == 0 };
                    if (random.Next(2) == 0)
                    {
                        e.SetAttribute.Mode = (uint)random.Next(0, 0x1000);
                    }

                    if (random.Next(2) == 0)
                    {
                        e.SetAttribute.Owner = "carol";
                    }

                    if (random.Next(3) == 0)
                    {
                        e.SetAttribute.Pinned = true;
                    }
                });
            case 9:
            case 10:
                return f.Allocate(existingFile ?? path);
            case 11:
                var blocks = Enumerable.Range(0, random.Next(0, 4)).Select(_ => (ulong)random.Next(1, (int)model.NextBlock + 2)).ToArray();
                return f.Register("worker-" + random.Next(3) + ":29999", blocks);
            case 12:
            case 13:
                return f.Commit((ulong)random.Next(0, (int)model.NextWorker + 1), (ulong)random.Next(1, (int)model.NextBlock + 1), (ulong)random.Next(1, 1024), random.Next(2) == 0 ? "MEM" : "SSD");
            case 14:
                return f.Entry(e =>
                {
                    e.RemoveBlockLocations = new() { WorkerId = (ulong)random.Next(0, (int)model.NextWorker + 1) };
                    e.RemoveBlockLocations.BlockIds.Add((ulong)random.Next(1, (int)model.NextBlock + 1));
                });
            case 15:
                return f.Lost((ulong)random.Next(1, (int)model.NextWorker + 1));
            default:
                return f.Mkdir(path, true);
        }
    }

    private static string? RandomFile(Random random, ReferenceModel model)
    {
        var files = new List<string>();
        void Collect(ReferenceModel.Node n, string p)
        {
            foreach (var c in n.Children.Values)
            {
                var cp = (p == "/" ? "" : p) + "/" + c.Name;
                if (c.IsDirectory)
                {
                    Collect(c, cp);
                }
                else
                {
                    files.Add(cp);
                }
            }
        }

        if (random.Next(2) == 0)
        {
            return null;
        }

        Collect(model.Root, "/");
        return files.Count == 0 ? null : files[random.Next(files.Count)];
    }
}
