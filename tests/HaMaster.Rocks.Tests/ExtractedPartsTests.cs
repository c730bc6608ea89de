using HaMaster.Chaos.Core.Files;

namespace HaMaster.Rocks.Tests;

/// <summary>The pieces split out of <see cref="RocksDb"/> (issue 20), each on its own.</summary>
public sealed class ExtractedPartsTests
{
    private sealed class Probe : IDisposable
    {
        public int Disposed { get; private set; }

        public void Dispose() => Disposed++;
    }

    [Fact]
    public void Open_children_are_handed_back_once_at_close_and_none_are_tracked_after()
    {
        var children = new OpenChildren();
        var kept = new Probe();
        var closedEarly = new Probe();
        Assert.True(children.TryAdd(kept));
        Assert.True(children.TryAdd(closedEarly));
        children.Remove(closedEarly);

        Assert.Equal([kept], children.Close()!);
        Assert.Null(children.Close());
        Assert.False(children.TryAdd(new Probe()));
    }

    [Fact]
    public void Names_to_open_are_default_then_requested_without_repeats_in_a_new_directory()
    {
        using var dir = new TempDirectory();

        var names = ColumnFamilySet.NamesToOpen(Path.Combine(dir.Path, "db"), ["b", "a", "b", RocksDb.DefaultColumnFamilyName]);

        Assert.Equal([RocksDb.DefaultColumnFamilyName, "b", "a"], names);
        Assert.Throws<ArgumentException>(() => ColumnFamilySet.NamesToOpen(dir.Path, [""]));
    }

    [Fact]
    public void Names_to_open_include_the_families_an_existing_database_has()
    {
        using var dir = new TempDirectory();
        var path = Path.Combine(dir.Path, "db");
        using (RocksDb.Open(path, B.Small, ["inodes", "edges"]))
        {
        }

        var names = ColumnFamilySet.NamesToOpen(path, ["blocks"]);

        Assert.Equal(RocksDb.DefaultColumnFamilyName, names[0]);
        Assert.Equal(["blocks", "edges", "inodes"], names.Skip(1).Order(StringComparer.Ordinal));
    }

    [Fact]
    public void A_column_family_of_another_database_is_refused_by_name()
    {
        using var dir = new TempDirectory();
        using var one = RocksDb.Open(Path.Combine(dir.Path, "one"), B.Small, ["x"]);
        using var two = RocksDb.Open(Path.Combine(dir.Path, "two"), B.Small, ["x"]);

        var error = Assert.Throws<ArgumentException>(() => one.Put(B.U("k"), B.U("v"), two.GetColumnFamily("x")));

        Assert.Contains("another database", error.Message, StringComparison.Ordinal);
        var missing = Assert.Throws<KeyNotFoundException>(() => one.GetColumnFamily("y"));
        Assert.Contains("open: default, x", missing.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("Invalid argument: Compression type ZSTD is not linked with the binary.", "not compiled into this librocksdb")]
    [InlineData("IO error: While lock file: /d/LOCK: Resource temporarily unavailable", "Another RocksDb instance")]
    [InlineData("Invalid argument: /d/CURRENT: does not exist (create_if_missing is false)", "No database at this path")]
    public void An_open_failure_gets_the_hint_its_message_calls_for(string message, string hint)
    {
        Assert.Contains(hint, NativeOptions.OpenHint(message, B.Small), StringComparison.Ordinal);
    }

    [Fact]
    public void An_open_failure_without_a_known_cause_gets_no_hint() =>
        Assert.Null(NativeOptions.OpenHint("Corruption: bad block", B.Small));
}
