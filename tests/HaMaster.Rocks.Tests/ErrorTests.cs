using HaMaster.Chaos.Core.Files;
namespace HaMaster.Rocks.Tests;

public class ErrorTests
{
    [Fact]
    public void A_file_where_the_directory_should_be_is_an_io_error()
    {
        using var dir = new TempDirectory();
        var file = dir.Sub("file");
        File.WriteAllText(file, "not a directory");
        var e = Assert.Throws<RocksDbException>(() => RocksDb.Open(file, B.Small));
        Assert.Equal("open", e.Operation);
        Assert.Equal(file, e.DatabasePath);
        Assert.Equal(RocksErrorKind.IOError, e.Kind);
        Assert.False(string.IsNullOrWhiteSpace(e.NativeMessage));

        var below = Path.Combine(file, "db");
        Assert.Throws<RocksDbException>(() => RocksDb.Open(below, B.Small));
    }

    [Fact]
    public void Second_open_of_the_same_database_is_refused_while_locked()
    {
        using var dir = new TempDirectory();
        var path = dir.Sub("db");
        using (var db = RocksDb.Open(path, B.Small))
        {
            var e = Assert.Throws<RocksDbException>(() => RocksDb.Open(path, B.Small));
            Assert.Equal(RocksErrorKind.IOError, e.Kind);
            Assert.Contains("LOCK", e.NativeMessage);
            Assert.Contains("Another RocksDb instance", e.Message);
            db.Put(B.U("still"), B.U("works"));
        }

        using var reopened = RocksDb.Open(path, B.Small);
        Assert.Equal("works", B.S(reopened.Get(B.U("still"))));
    }

    [Fact]
    public void Garbage_current_file_is_corruption()
    {
        using var dir = new TempDirectory();
        var path = dir.Sub("db");
        using (var db = RocksDb.Open(path, B.Small))
        {
            db.Put(B.U("a"), B.U("1"));
        }

        File.WriteAllBytes(Path.Combine(path, "CURRENT"), [0xde, 0xad, 0xbe, 0xef]);
        var e = Assert.Throws<RocksDbException>(() => RocksDb.Open(path, B.Small));
        Assert.Equal(RocksErrorKind.Corruption, e.Kind);
    }

    [Fact]
    public void Garbage_manifest_is_corruption()
    {
        using var dir = new TempDirectory();
        var path = dir.Sub("db");
        using (var db = RocksDb.Open(path, B.Small))
        {
            db.Put(B.U("a"), B.U("1"));
        }

        var manifest = Path.Combine(path, File.ReadAllText(Path.Combine(path, "CURRENT")).Trim());
        Assert.True(File.Exists(manifest));
        var garbage = new byte[4096];
        new Random(1).NextBytes(garbage);
        File.WriteAllBytes(manifest, garbage);
        var e = Assert.Throws<RocksDbException>(() => RocksDb.Open(path, B.Small));
        Assert.Equal(RocksErrorKind.Corruption, e.Kind);
        Assert.Contains(path, e.Message);
    }

    [Fact]
    public void Corrupt_sst_block_surfaces_through_get_and_iterator_status()
    {
        using var dir = new TempDirectory();
        var path = dir.Sub("db");
        var options = B.Small with { Compression = RocksCompression.None, BloomBitsPerKey = 0 };
        var random = new Random(3);
        using (var db = RocksDb.Open(path, options))
        {
            for (var i = 0; i < 1000; i++)
            {
                var value = new byte[100];
                random.NextBytes(value);
                db.Put(B.U($"k{i:D4}"), value);
            }

            db.Flush();
        }

        var sst = Directory.GetFiles(path, "*.sst").Single();
        using (var file = new FileStream(sst, FileMode.Open, FileAccess.Write))
        {
            file.Position = 100; // inside the first data block; footer, index and metadata stay intact
            file.Write(new byte[200]);
        }

        using var reopened = RocksDb.Open(path, options);
        var e = Assert.Throws<RocksDbException>(() => reopened.Get(B.U("k0000")));
        Assert.Equal(RocksErrorKind.Corruption, e.Kind);
        Assert.Equal("get", e.Operation);

        using var it = reopened.NewIterator();
        it.SeekToFirst();
        Assert.False(it.Valid);
        var iterError = Assert.Throws<RocksDbException>(it.ThrowIfError);
        Assert.Equal(RocksErrorKind.Corruption, iterError.Kind);
        Assert.Equal("iterate", iterError.Operation);
    }

    [Fact]
    public void Every_operation_on_a_disposed_database_throws_object_disposed()
    {
        using var dir = new TempDirectory();
        var db = RocksDb.Open(dir.Sub("db"), B.Small, ["cf"]);
        var cf = db.GetColumnFamily("cf");
        var snapshot = db.CreateSnapshot();
        using var batch = new WriteBatch();
        db.Dispose();
        db.Dispose();
        var k = B.U("k");
        Assert.Throws<ObjectDisposedException>(() => db.Get(k));
        Assert.Throws<ObjectDisposedException>(() => db.MultiGet([k]));
        Assert.Throws<ObjectDisposedException>(() => db.Put(k, k));
        Assert.Throws<ObjectDisposedException>(() => db.Delete(k));
        Assert.Throws<ObjectDisposedException>(() => db.DeleteRange(k, k));
        Assert.Throws<ObjectDisposedException>(() => db.Write(batch));
        Assert.Throws<ObjectDisposedException>(() => db.NewIterator());
        Assert.Throws<ObjectDisposedException>(() => db.CreateSnapshot());
        Assert.Throws<ObjectDisposedException>(() => db.CreateCheckpoint(dir.Sub("cp")));
        Assert.Throws<ObjectDisposedException>(() => db.Flush());
        Assert.Throws<ObjectDisposedException>(() => db.CompactRange());
        Assert.Throws<ObjectDisposedException>(() => db.GetProperty(RocksProperties.EstimateNumKeys));
        Assert.Throws<ObjectDisposedException>(() => db.GetLongProperty(RocksProperties.EstimateNumKeys));
        Assert.Throws<ObjectDisposedException>(() => db.GetColumnFamily("cf"));
        Assert.Throws<ObjectDisposedException>(() => batch.Put(k, k, cf)); // the column family died with its database
        snapshot.Dispose();
    }

    [Fact]
    public async Task Dispose_while_other_threads_read_never_crashes()
    {
        using var dir = new TempDirectory();
        for (var round = 0; round < 5; round++)
        {
            var db = RocksDb.Open(dir.Sub("db"), B.Small);
            db.Put(B.U("k"), B.U("v"));
            using var started = new CountdownEvent(2);
            var readers = Enumerable.Range(0, 2).Select(reader => Task.Run(() =>
            {
                started.Signal();
                for (var i = 0; i < 1_000_000; i++)
                {
                    try
                    {
                        using var it = db.NewIterator();
                        it.SeekToFirst();
                        _ = db.Get(B.U("k"));
                    }
                    catch (ObjectDisposedException)
                    {
                        return;
                    }
                }
            })).ToArray();
            Assert.True(started.Wait(TimeSpan.FromSeconds(10)));
            db.Dispose();
            await Task.WhenAll(readers).WaitAsync(TimeSpan.FromSeconds(60));
        }
    }
}
