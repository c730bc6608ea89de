using System.Diagnostics;
using System.Globalization;
using HaMaster.Rocks;
using RocksDbSharp;
using RocksDb = HaMaster.Rocks.RocksDb;
using WriteBatch = HaMaster.Rocks.WriteBatch;

namespace HaMaster.Rocks.Bench;

/// <summary>
/// Runs the same loops as native/rocks_native_bench.c through HaMaster.Rocks (over RocksDbSharp)
/// and prints the per-call overhead against the same librocksdb.so called from C. Arguments: --native PATH (the compiled C baseline, optional),
/// --dir DIR (scratch directory), --keys N, --batch N, --gets N, --rounds N. Machines are noisy
/// (other builds share the cores): the native baseline runs before and after the binding, every
/// get loop runs ROUNDS times, and the best figure of each side is compared.
/// </summary>
internal static class Program
{
    private static int Main(string[] args)
    {
        var native = Arg(args, "--native", null);
        var dir = Arg(args, "--dir", null) ?? Path.Combine(Path.GetTempPath(), "hamaster-rocks-bench-" + Environment.ProcessId);
        var keys = long.Parse(Arg(args, "--keys", "100000")!, CultureInfo.InvariantCulture);
        var batchSize = int.Parse(Arg(args, "--batch", "100")!, CultureInfo.InvariantCulture);
        var gets = long.Parse(Arg(args, "--gets", "100000")!, CultureInfo.InvariantCulture);
        var rounds = int.Parse(Arg(args, "--rounds", "5")!, CultureInfo.InvariantCulture);

        Console.WriteLine($"HaMaster.Rocks benchmark: {keys} keys x 100 B values, batches of {batchSize} (sync off, WAL on), {gets} point gets x best of {rounds} rounds (all hits, flushed, warm cache); LZ4, bloom 10 bits/key, 64 MiB LRU cache");
        RocksLibrary.EnsureLoaded();
        Console.WriteLine($"runtime {Environment.Version}, {Environment.ProcessorCount} cores, RocksDbSharp {typeof(Native).Assembly.GetName().Version}, {RocksLibrary.LoadedPath}");

        Directory.CreateDirectory(dir);
        Dictionary<string, double>? baseline = null;
        if (native is not null)
        {
            baseline = RunNative(native, Path.Combine(dir, "native1"), keys, batchSize, gets, rounds);
        }

        var results = RunBinding(Path.Combine(dir, "binding"), keys, batchSize, gets, rounds, out var diskBytes, out var sstBytes, out var scanNs);
        if (native is not null)
        {
            foreach (var (k, v) in RunNative(native, Path.Combine(dir, "native2"), keys, batchSize, gets, rounds))
            {
                baseline![k] = Math.Min(baseline.GetValueOrDefault(k, double.MaxValue), v);
            }
        }

        Console.WriteLine();
        Console.WriteLine($"{"operation",-58} {"binding ns/op",14} {"native ns/op",13} {"overhead ns",12} {"ratio",7} {"binding ops/s",14}");
        foreach (var (name, ns, nativeKey) in results)
        {
            var nativeNs = baseline is not null && nativeKey is not null && baseline.TryGetValue(nativeKey, out var n) ? n : double.NaN;
            var overhead = ns - nativeNs;
            Console.WriteLine($"{name,-58} {ns,14:F1} {Fmt(nativeNs),13} {Fmt(overhead),12} {(double.IsNaN(nativeNs) ? "-" : (ns / nativeNs).ToString("F2", CultureInfo.InvariantCulture)),7} {1e9 / ns,14:N0}");
        }

        Console.WriteLine($"{"forward scan (iterator, per key)",-58} {scanNs,14:F1} {"-",13} {"-",12} {"-",7} {1e9 / scanNs,14:N0}");
        Console.WriteLine();
        Console.WriteLine($"disk: {diskBytes:N0} bytes in the database directory after flush; rocksdb.total-sst-files-size {sstBytes:N0} bytes ({keys * (110 + 100) / 1e6:F1} MB raw key+value)");
        if (baseline is null)
        {
            Console.WriteLine("(native baseline not run: pass --native PATH, see scripts/bench-rocks.sh)");
        }

        try
        {
            Directory.Delete(dir, recursive: true);
        }
        catch (IOException)
        {
        }

        return 0;
    }

    private static List<(string Name, double Ns, string? NativeKey)> RunBinding(string path, long keys, int batchSize, long gets, int rounds, out long diskBytes, out long sstBytes, out double scanNs)
    {
        var results = new List<(string, double, string?)>();
        var options = new RocksDbOptions { Compression = RocksCompression.Lz4, BloomBitsPerKey = 10, BlockCacheBytes = 64L << 20, WriteBufferBytes = 64L << 20 };
        using var db = RocksDb.Open(path, options);
        Span<byte> key = stackalloc byte[32];
        var value = new byte[100];
        value.AsSpan().Fill((byte)'v');

        using (var batch = new WriteBatch())
        {
            var sw = Stopwatch.StartNew();
            for (long k = 0; k < keys;)
            {
                batch.Clear();
                for (var i = 0; i < batchSize && k < keys; i++, k++)
                {
                    batch.Put(key[..Key(key, k)], value);
                }

                db.Write(batch);
            }

            results.Add(($"batched put, per key ({batchSize} x 100 B per batch)", Ns(sw, keys), "put_ns"));
        }

        db.Flush();
        diskBytes = Directory.EnumerateFiles(path).Sum(f => new FileInfo(f).Length);
        sstBytes = db.GetLongProperty(RocksProperties.TotalSstFilesSize) ?? -1;

        var seed = 12345UL;
        for (long i = 0; i < gets / 10; i++)
        {
            _ = db.Get(key[..Key(key, (long)(Lcg(ref seed) % (ulong)keys))]);
        }

        long checksum = 0;
        double copyNs = double.MaxValue, directNs = double.MaxValue, pinnedNs = double.MaxValue;
        var watch = new Stopwatch();
        var inner = db.Inner;
        var defaultFamily = inner.GetDefaultColumnFamily();
        var readOptions = new ReadOptions();
        for (var round = 0; round < rounds; round++)
        {
            seed = 42;
            watch.Restart();
            for (long i = 0; i < gets; i++)
            {
                var v = db.Get(key[..Key(key, (long)(Lcg(ref seed) % (ulong)keys))])!;
                checksum += v[^1];
            }

            copyNs = Math.Min(copyNs, Ns(watch, gets));

            // RocksDbSharp alone: what HaMaster.Rocks adds (a lease, a column family check) is the difference.
            seed = 42;
            watch.Restart();
            for (long i = 0; i < gets; i++)
            {
                var v = inner.Get(key[..Key(key, (long)(Lcg(ref seed) % (ulong)keys))], defaultFamily, readOptions)!;
                checksum += v[^1];
            }

            directNs = Math.Min(directNs, Ns(watch, gets));

            // Zero-copy: get_pinned through RocksDbSharp's Native.Instance, the value read in place.
            seed = 42;
            watch.Restart();
            for (long i = 0; i < gets; i++)
            {
                checksum += PinnedLastByte(inner, readOptions, defaultFamily, key[..Key(key, (long)(Lcg(ref seed) % (ulong)keys))]);
            }

            pinnedNs = Math.Min(pinnedNs, Ns(watch, gets));
        }

        using (var counted = new WriteBatch())
        {
            counted.Put("k"u8, "v"u8);
            const long calls = 10_000_000;
            var callNs = double.MaxValue;
            for (var round = 0; round < rounds; round++)
            {
                watch.Restart();
                for (long i = 0; i < calls; i++)
                {
                    checksum += counted.Count;
                }

                callNs = Math.Min(callNs, Ns(watch, calls));
            }

            results.Add(("trivial getter: WriteBatch.Count", callNs, "call_ns"));

            var clearNs = double.MaxValue;
            for (var round = 0; round < rounds; round++)
            {
                watch.Restart();
                for (long i = 0; i < calls; i++)
                {
                    counted.Clear();
                }

                clearNs = Math.Min(clearNs, Ns(watch, calls));
            }

            results.Add(("trivial call: WriteBatch.Clear (fixed cost)", clearNs, "clear_ns"));
        }

        results.Add(("Get -> new byte[] (vs rocksdb_get, malloc copy)", copyNs, "get_copy_ns"));
        results.Add(("RocksDbSharp Get, no HaMaster layer (vs rocksdb_get)", directNs, "get_copy_ns"));
        results.Add(("pinned get via Native.Instance, zero-copy (vs get_pinned)", pinnedNs, "get_pinned_ns"));

        watch.Restart();
        long scanned = 0;
        using (var it = db.NewIterator())
        {
            for (it.SeekToFirst(); it.Valid; it.Next())
            {
                checksum += it.Value[^1] + it.Key.Length;
                scanned++;
            }

            it.ThrowIfError();
        }

        scanNs = Ns(watch, scanned);
        if (checksum == 0)
        {
            Console.WriteLine("unexpected checksum 0");
        }

        return results;
    }

    private static unsafe long PinnedLastByte(RocksDbSharp.RocksDb db, ReadOptions options, ColumnFamilyHandle cf, ReadOnlySpan<byte> key)
    {
        IntPtr slice;
        fixed (byte* k = key)
        {
            slice = Native.Instance.rocksdb_get_pinned_cf(db.Handle, options.Handle, cf.Handle, k, (UIntPtr)key.Length);
        }

        if (slice == IntPtr.Zero)
        {
            return 0;
        }

        try
        {
            var value = Native.Instance.rocksdb_pinnableslice_value(slice, out var length);
            return new ReadOnlySpan<byte>((byte*)value, (int)length)[^1];
        }
        finally
        {
            Native.Instance.rocksdb_pinnableslice_destroy(slice);
        }
    }

    private static Dictionary<string, double> RunNative(string executable, string path, long keys, int batchSize, long gets, int rounds)
    {
        var start = new ProcessStartInfo(executable)
        {
            RedirectStandardOutput = true,
            UseShellExecute = false,
        };
        start.ArgumentList.Add(path);
        start.ArgumentList.Add(keys.ToString(CultureInfo.InvariantCulture));
        start.ArgumentList.Add(batchSize.ToString(CultureInfo.InvariantCulture));
        start.ArgumentList.Add(gets.ToString(CultureInfo.InvariantCulture));
        start.ArgumentList.Add(rounds.ToString(CultureInfo.InvariantCulture));
        using var process = Process.Start(start) ?? throw new InvalidOperationException("cannot start " + executable);
        var output = process.StandardOutput.ReadToEnd();
        if (!process.WaitForExit(TimeSpan.FromMinutes(5)) || process.ExitCode != 0)
        {
            throw new InvalidOperationException($"native benchmark failed (exit {(process.HasExited ? process.ExitCode : -1)})");
        }

        var values = new Dictionary<string, double>();
        foreach (var line in output.Split('\n', StringSplitOptions.RemoveEmptyEntries))
        {
            var parts = line.Split('=');
            if (parts.Length == 2 && double.TryParse(parts[1], NumberStyles.Float, CultureInfo.InvariantCulture, out var v))
            {
                values[parts[0]] = v;
            }
        }

        return values;
    }

    // "key" + 10 zero-padded digits, formatted by hand exactly like make_key on the C side.
    private static int Key(Span<byte> destination, long k)
    {
        destination[0] = (byte)'k';
        destination[1] = (byte)'e';
        destination[2] = (byte)'y';
        for (var i = 12; i >= 3; i--)
        {
            destination[i] = (byte)('0' + (k % 10));
            k /= 10;
        }

        return 13;
    }

    private static ulong Lcg(ref ulong state)
    {
        state = (state * 6364136223846793005UL) + 1442695040888963407UL;
        return state >> 33;
    }

    private static double Ns(Stopwatch watch, long operations) => watch.Elapsed.TotalNanoseconds / operations;

    private static string Fmt(double value) => double.IsNaN(value) ? "-" : value.ToString("F1", CultureInfo.InvariantCulture);

    private static string? Arg(string[] args, string name, string? fallback)
    {
        var index = Array.IndexOf(args, name);
        return index >= 0 && index + 1 < args.Length ? args[index + 1] : fallback;
    }
}
