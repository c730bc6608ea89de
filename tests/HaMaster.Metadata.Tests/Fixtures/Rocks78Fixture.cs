using System.Formats.Tar;
using System.IO.Compression;
using System.Text.Json;
using System.Text.Json.Serialization;
using Google.Protobuf;
using HaMaster.Protos.V1;

namespace HaMaster.Metadata.Tests.Fixtures;

/// <summary>
/// Builds the on-disk fixtures of <c>Fixtures/rocks78/</c>: a Rocks metastore data directory and a
/// state-machine snapshot written by the RocksDB 7.8 build (our former binding over Debian's
/// librocksdb7.8), with the contents any later build must read back. Deterministic: the same journal
/// entries every time, so running it with a newer build gives the same digests (only the RocksDB
/// files differ). See Fixtures/rocks78/README.md for how to regenerate them.
/// </summary>
internal static class Rocks78Fixture
{
    public const string DataArchive = "datadir.tar.gz";
    public const string SnapshotArchive = "snapshot.tar.gz";
    public const string ExpectedFile = "expected.json";

    /// <summary>Session whose stored results prove the sessions column family came through.</summary>
    public const string SessionClient = "fixture-client";

    /// <summary>Paths whose full FileInfo is recorded (directories, files with blocks, attributes, UTF-8 names).</summary>
    public static readonly string[] RecordedPaths =
    [
        "/",
        "/proj-0",
        "/proj-3/sub-2",
        "/proj-3/sub-2/file-0.dat",
        "/proj-7/sub-4/file-5.dat",
        "/proj-1/sub-1/file-1.dat",
        "/proj-9/sub-0/naïve-ünïcode-é.txt",
        "/pinned/deep/a/b/c/leaf.bin",
        "/renamed-proj-8",
    ];

    public static readonly JsonSerializerOptions Json = new() { WriteIndented = true, Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping, DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull };

    /// <summary>Writes the data directory (state machine at its final index, closed) and the snapshot
    /// (taken part-way through) and returns what they hold.</summary>
    public static Rocks78Expected Generate(string dataDir, string snapshotDir)
    {
        var f = new EntryFactory();
        var expected = new Rocks78Expected();
        using var sm = MetadataStateMachine.Open(dataDir, new MetastoreOptions { Kind = MetastoreKind.Rocks });

        void Ok(JournalEntry entry)
        {
            var result = sm.Apply(f, entry);
            if (result.Status != MetadataStatus.Ok)
            {
                throw new InvalidOperationException($"fixture entry {entry.CommandCase} failed: {result.Status} {result.Message}");
            }
        }

        // Two workers; the second is later declared lost (its locations go, its record stays).
        var w1 = sm.Apply(f, f.Register("worker-1.fixture:29999")).WorkerId;
        var w2 = sm.Apply(f, f.Register("worker-2.fixture:29999")).WorkerId;

        // 10 projects x 5 subdirectories x 6 files = 360 inodes, plus a deep pinned tree.
        var session = 0UL;
        for (var p = 0; p < 10; p++)
        {
            Ok(f.Mkdir($"/proj-{p}"));
            for (var s = 0; s < 5; s++)
            {
                Ok(f.Mkdir($"/proj-{p}/sub-{s}"));
                for (var i = 0; i < 6; i++)
                {
                    var name = p == 9 && s == 0 && i == 0 ? "naïve-ünïcode-é.txt" : $"file-{i}.dat";
                    var path = $"/proj-{p}/sub-{s}/{name}";
                    var create = f.Create(path, blockSize: 4096);
                    if (i == 1)
                    {
                        // Written through an exactly-once session: its results land in the sessions column family.
                        create.Session = new ClientSession { ClientId = SessionClient, Sequence = ++session, AcknowledgedThrough = session > 40 ? session - 40 : 0 };
                    }

                    Ok(create);
                    if (i % 2 == 0)
                    {
                        // Files with one or two blocks, committed on the workers, then completed.
                        var blocks = 1 + ((p + s) % 2);
                        for (var b = 0; b < blocks; b++)
                        {
                            var block = sm.Apply(f, f.Allocate(path)).BlockId;
                            Ok(f.Commit(w1, block, 4096, "MEM"));
                            if ((p + i) % 3 == 0)
                            {
                                Ok(f.Commit(w2, block, 4096, "SSD"));
                            }
                        }

                        Ok(f.Complete(path, (ulong)blocks * 4096));
                    }
                }
            }

            if (p == 4)
            {
                // Part of the data reaches SST files, the rest stays in the write-ahead log.
                sm.Flush();
            }
        }

        Ok(f.Mkdir("/pinned/deep/a/b/c", recursive: true));
        Ok(f.Create("/pinned/deep/a/b/c/leaf.bin"));
        Ok(f.Entry(e => e.SetAttribute = new() { Path = "/pinned", Pinned = true, Owner = "bob", Group = "ops", Recursive = true }));
        Ok(f.Entry(e => e.SetAttribute = new() { Path = "/proj-3/sub-2", Mode = 0x1ED /* 0755 */ }));
        Ok(f.Entry(e => e.SetAttribute = new() { Path = "/proj-7/sub-4/file-5.dat", TtlMs = 86_400_000, Mode = 0x180 /* 0600 */ }));
        Ok(f.Rename("/proj-8", "/renamed-proj-8"));
        Ok(f.Delete("/proj-2/sub-3", recursive: true));
        Ok(f.Delete("/proj-5/sub-0/file-3.dat"));

        var snapshotAt = sm.CreateSnapshot(snapshotDir);
        expected.Snapshot = Describe(sm, snapshotAt.Index, snapshotAt.Term);

        // After the snapshot: the data directory is ahead of it.
        Ok(f.Lost(w2));
        Ok(f.Mkdir("/after-snapshot/x", recursive: true));
        for (var i = 0; i < 5; i++)
        {
            var create = f.Create($"/after-snapshot/x/f{i}");
            create.Session = new ClientSession { ClientId = SessionClient, Sequence = ++session };
            Ok(create);
        }

        expected.DataDirectory = Describe(sm, sm.AppliedIndex, sm.AppliedTerm);
        expected.SessionLastSequence = session;
        expected.SessionReplayOfLastSequence = JsonFormatter.Default.Format(sm.ApplyBatch([(1, 1, SessionRetry(session))])[0]);
        return expected;
    }

    /// <summary>A retry of a session write that was already applied: the state machine answers it from
    /// the stored session result, changing nothing (index 1 is always below the applied index).</summary>
    public static JournalEntry SessionRetry(ulong sequence) => new()
    {
        TimeMs = 1_800_000_000_000,
        Caller = new Caller { User = "alice" },
        Session = new ClientSession { ClientId = SessionClient, Sequence = sequence },
        CreateFile = new CreateFileRequest { Path = "/should-not-be-created" },
    };

    public static Rocks78State Describe(MetadataStateMachine sm, ulong index, ulong term)
    {
        var counts = sm.Counts;
        var state = new Rocks78State
        {
            AppliedIndex = index,
            AppliedTerm = term,
            Digest = sm.Digest(),
            Inodes = counts.Inodes,
            Blocks = counts.Blocks,
            Workers = counts.Workers,
            Listing = sm.ListStatus("/").Value!.Entries.Select(i => i.Name).ToList(),
        };
        foreach (var path in RecordedPaths)
        {
            var status = sm.GetStatus(path);
            state.Paths[path] = status.IsOk ? JsonFormatter.Default.Format(status.Value) : $"{status.Status}";
        }

        state.Workers2 = sm.ListWorkers().Select(w => JsonFormatter.Default.Format(w)).ToList();
        return state;
    }

    /// <summary>Packs a directory (its files, recursively) into a .tar.gz, leaving out RocksDB's info logs.</summary>
    public static void Pack(string directory, string archive)
    {
        using var file = File.Create(archive);
        using var gzip = new GZipStream(file, CompressionLevel.SmallestSize);
        using var tar = new TarWriter(gzip, TarEntryFormat.Pax, leaveOpen: false);
        foreach (var path in Directory.EnumerateFiles(directory, "*", SearchOption.AllDirectories).Order(StringComparer.Ordinal))
        {
            var name = Path.GetFileName(path);
            if (name.StartsWith("LOG", StringComparison.Ordinal))
            {
                continue;
            }

            var relative = Path.GetRelativePath(directory, path).Replace(Path.DirectorySeparatorChar, '/');
            var entry = new PaxTarEntry(TarEntryType.RegularFile, relative)
            {
                DataStream = File.OpenRead(path),
                ModificationTime = new DateTimeOffset(2026, 12, 1, 0, 0, 0, TimeSpan.Zero),
                Mode = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead | UnixFileMode.OtherRead,
            };
            tar.WriteEntry(entry);
            entry.DataStream.Dispose();
        }
    }

    /// <summary>Unpacks an archive made by <see cref="Pack"/> into a new directory.</summary>
    public static void Unpack(string archive, string directory)
    {
        Directory.CreateDirectory(directory);
        using var file = File.OpenRead(archive);
        using var gzip = new GZipStream(file, CompressionMode.Decompress);
        TarFile.ExtractToDirectory(gzip, directory, overwriteFiles: false);
    }

    /// <summary>The committed fixture folder next to the test binaries (copied by the project file).</summary>
    public static string FixtureDirectory => Path.Combine(AppContext.BaseDirectory, "Fixtures", "rocks78");

    /// <summary>The fixture folder in the source tree (for regeneration): walks up to HaMaster.sln.</summary>
    public static string SourceFixtureDirectory()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "HaMaster.sln")))
            {
                return Path.Combine(dir.FullName, "tests", "HaMaster.Metadata.Tests", "Fixtures", "rocks78");
            }
        }

        throw new DirectoryNotFoundException("HaMaster.sln not found above " + AppContext.BaseDirectory);
    }

    public static Rocks78Expected LoadExpected() =>
        JsonSerializer.Deserialize<Rocks78Expected>(File.ReadAllText(Path.Combine(FixtureDirectory, ExpectedFile)), Json)
        ?? throw new InvalidDataException("empty " + ExpectedFile);
}

/// <summary>What the fixtures hold (Fixtures/rocks78/expected.json).</summary>
internal sealed class Rocks78Expected
{
    /// <summary>Which build wrote the fixtures.</summary>
    public string WrittenBy { get; set; } = "";

    public Rocks78State Snapshot { get; set; } = new();

    public Rocks78State DataDirectory { get; set; } = new();

    public ulong SessionLastSequence { get; set; }

    /// <summary>CommandResult (protobuf JSON) a retry of the session's last sequence gets back.</summary>
    public string SessionReplayOfLastSequence { get; set; } = "";
}

internal sealed class Rocks78State
{
    public ulong AppliedIndex { get; set; }

    public ulong AppliedTerm { get; set; }

    /// <summary><see cref="MetadataStateMachine.Digest"/>: every inode, block, location and worker.</summary>
    public string Digest { get; set; } = "";

    public ulong Inodes { get; set; }

    public ulong Blocks { get; set; }

    public ulong Workers { get; set; }

    /// <summary>Names listed in "/".</summary>
    public List<string> Listing { get; set; } = [];

    /// <summary>FileInfo (protobuf JSON) of each recorded path, or the status name when it does not exist.</summary>
    public SortedDictionary<string, string> Paths { get; set; } = new(StringComparer.Ordinal);

    /// <summary>WorkerInfo (protobuf JSON) of every worker.</summary>
    [JsonPropertyName("WorkerInfos")]
    public List<string> Workers2 { get; set; } = [];
}
