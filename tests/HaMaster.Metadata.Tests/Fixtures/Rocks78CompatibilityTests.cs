using System.Text.Json;
using HaMaster.Chaos.Core.Files;
using HaMaster.Protos.V1;

namespace HaMaster.Metadata.Tests.Fixtures;

/// <summary>
/// The data directory and snapshot written by the RocksDB 7.8 build (Fixtures/rocks78) open in this
/// build with every inode, block, worker and session intact.
/// </summary>
public sealed class Rocks78CompatibilityTests
{
    /// <summary>Set to 1 to rewrite Fixtures/rocks78 in the source tree with the current build.</summary>
    private const string RegenerateVariable = "HAMASTER_REGENERATE_ROCKS78_FIXTURES";

    public static TheoryData<string> Kinds => StoreKinds.All;

    [Fact]
    public void Generator_still_produces_the_recorded_contents()
    {
        using var dir = new TempDirectory();
        var produced = Rocks78Fixture.Generate(dir.Sub("data"), dir.Sub("snapshot"));
        if (Environment.GetEnvironmentVariable(RegenerateVariable) == "1")
        {
            Regenerate(dir, produced);
        }

        var expected = Rocks78Fixture.LoadExpected();
        AssertSame(expected.Snapshot, produced.Snapshot);
        AssertSame(expected.DataDirectory, produced.DataDirectory);
        Assert.Equal(expected.SessionReplayOfLastSequence, produced.SessionReplayOfLastSequence);
    }

    [Theory]
    [MemberData(nameof(Kinds))]
    public void Data_directory_of_rocksdb_7_8_opens_with_every_inode_intact(string kind)
    {
        if (kind == "heap")
        {
            return; // the Heap store keeps no data directory
        }

        var expected = Rocks78Fixture.LoadExpected();
        using var dir = new TempDirectory();
        Rocks78Fixture.Unpack(Path.Combine(Rocks78Fixture.FixtureDirectory, Rocks78Fixture.DataArchive), dir.Path);
        using (var sm = MetadataStateMachine.Open(dir.Path, StoreKinds.Options(kind)))
        {
            AssertSame(expected.DataDirectory, Rocks78Fixture.Describe(sm, sm.AppliedIndex, sm.AppliedTerm));
            AssertSessionSurvived(sm, expected);

            // The old files take new writes, and a snapshot of the mixed store restores.
            var f = new EntryFactory();
            var next = sm.AppliedIndex + 1;
            Assert.Equal(MetadataStatus.Ok, sm.ApplyBatch([(next, 9, f.Mkdir("/written-by-new-build"))])[0].Status);
            Assert.Equal(expected.DataDirectory.Inodes + 1, sm.Counts.Inodes);
            sm.CreateSnapshot(dir.Sub("new-snapshot"));
        }

        using var reopened = MetadataStateMachine.Open(dir.Path, StoreKinds.Options(kind));
        Assert.True(reopened.GetStatus("/written-by-new-build").IsOk);
        Assert.True(reopened.GetStatus("/proj-9/sub-0/naïve-ünïcode-é.txt").IsOk);
        using var restored = MetadataStateMachine.Open(dir.Sub("restored"), new MetastoreOptions { Kind = MetastoreKind.Heap });
        restored.RestoreFromSnapshot(dir.Sub("new-snapshot"));
        Assert.Equal(reopened.Digest(), restored.Digest());
    }

    [Theory]
    [MemberData(nameof(Kinds))]
    public void Snapshot_of_rocksdb_7_8_restores_with_every_inode_intact(string kind)
    {
        var expected = Rocks78Fixture.LoadExpected();
        using var dir = new TempDirectory();
        var snapshot = dir.Sub("snapshot");
        Rocks78Fixture.Unpack(Path.Combine(Rocks78Fixture.FixtureDirectory, Rocks78Fixture.SnapshotArchive), snapshot);
        var files = Directory.GetFiles(snapshot).Select(Path.GetFileName).Order(StringComparer.Ordinal).ToList();
        using var sm = MetadataStateMachine.Open(dir.Sub("data"), StoreKinds.Options(kind));
        var (index, term) = sm.RestoreFromSnapshot(snapshot);
        Assert.Equal((expected.Snapshot.AppliedIndex, expected.Snapshot.AppliedTerm), (index, term));
        AssertSame(expected.Snapshot, Rocks78Fixture.Describe(sm, sm.AppliedIndex, sm.AppliedTerm));

        // Restoring leaves the snapshot as it was (it may be sent to other masters next).
        Assert.Equal(files, Directory.GetFiles(snapshot).Select(Path.GetFileName).Order(StringComparer.Ordinal).ToList());
    }

    private static void AssertSessionSurvived(MetadataStateMachine sm, Rocks78Expected expected)
    {
        var replay = sm.ApplyBatch([(1, 1, Rocks78Fixture.SessionRetry(expected.SessionLastSequence))])[0];
        Assert.Equal(expected.SessionReplayOfLastSequence, Google.Protobuf.JsonFormatter.Default.Format(replay));
        Assert.Equal(MetadataStatus.NotFound, sm.GetStatus("/should-not-be-created").Status);
    }

    private static void AssertSame(Rocks78State expected, Rocks78State actual)
    {
        Assert.Equal(expected.AppliedIndex, actual.AppliedIndex);
        Assert.Equal(expected.AppliedTerm, actual.AppliedTerm);
        Assert.Equal(expected.Inodes, actual.Inodes);
        Assert.Equal(expected.Blocks, actual.Blocks);
        Assert.Equal(expected.Workers, actual.Workers);
        Assert.Equal(expected.Listing, actual.Listing);
        Assert.Equal(expected.Paths, actual.Paths);
        Assert.Equal(expected.Workers2, actual.Workers2);
        Assert.Equal(expected.Digest, actual.Digest);
    }

    private static void Regenerate(TempDirectory dir, Rocks78Expected produced)
    {
        var target = Rocks78Fixture.SourceFixtureDirectory();
        Directory.CreateDirectory(target);
        Rocks78Fixture.Pack(dir.Sub("data"), Path.Combine(target, Rocks78Fixture.DataArchive));
        Rocks78Fixture.Pack(dir.Sub("snapshot"), Path.Combine(target, Rocks78Fixture.SnapshotArchive));
        produced.WrittenBy = (Environment.GetEnvironmentVariable("HAMASTER_FIXTURE_WRITTEN_BY") ?? "unnamed build") + ", "
            + DateTime.UtcNow.ToString("yyyy-MM-dd", System.Globalization.CultureInfo.InvariantCulture);
        File.WriteAllText(Path.Combine(target, Rocks78Fixture.ExpectedFile), JsonSerializer.Serialize(produced, Rocks78Fixture.Json) + "\n");
        Directory.CreateDirectory(Rocks78Fixture.FixtureDirectory);
        File.Copy(Path.Combine(target, Rocks78Fixture.ExpectedFile), Path.Combine(Rocks78Fixture.FixtureDirectory, Rocks78Fixture.ExpectedFile), overwrite: true);
    }
}
