using System.Diagnostics;
using HaMaster.Chaos.Core.Files;
using HaMaster.Metadata.CrashChild;

namespace HaMaster.Metadata.Tests;

/// <summary>kill -9 of a process in the middle of applying: on reopen the applied index must be at least
/// the last one the child reported, and the content must equal exactly that prefix of the log.</summary>
public sealed class CrashRecoveryTests
{
    [Theory]
    [InlineData(0, 5)]
    [InlineData(3, 40)]
    [InlineData(1000, 120)]
    public void KilledMidApplyReopensAtAConsistentPrefix(int cacheEntries, int batchesBeforeKill)
    {
        using var dir = new TempDirectory();
        var data = dir.Sub("data");
        ulong reported = 0;
        for (var run = 0; run < 2; run++)
        {
            reported = RunAndKill(data, cacheEntries, batchesBeforeKill);
        }

        using var sm = MetadataStateMachine.Open(data, new MetastoreOptions { Kind = MetastoreKind.Rocks, InodeCacheMaxEntries = cacheEntries });
        var applied = sm.AppliedIndex;
        Assert.True(applied >= reported, $"applied {applied} < reported {reported}");

        using var reference = MetadataStateMachine.Open(dir.Sub("reference"), new MetastoreOptions { Kind = MetastoreKind.Heap });
        for (ulong next = 1; next <= applied; next += CrashLog.BatchSize)
        {
            reference.ApplyBatch(CrashLog.Batch(next, (int)Math.Min(CrashLog.BatchSize, applied - next + 1)));
        }

        Assert.Equal(applied, reference.AppliedIndex);
        Assert.Equal(reference.Digest(), sm.Digest());
    }

    private static ulong RunAndKill(string data, int cacheEntries, int batchesBeforeKill)
    {
        var childDll = Path.Combine(AppContext.BaseDirectory, "HaMaster.Metadata.CrashChild.dll");
        var start = new ProcessStartInfo("dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        start.ArgumentList.Add(childDll);
        start.ArgumentList.Add(data);
        start.ArgumentList.Add(cacheEntries.ToString(System.Globalization.CultureInfo.InvariantCulture));
        using var child = Process.Start(start)!;
        ulong reported = 0;
        var seen = 0;
        var deadline = Stopwatch.StartNew();
        try
        {
            while (seen < batchesBeforeKill && deadline.Elapsed < TimeSpan.FromSeconds(60))
            {
                var line = child.StandardOutput.ReadLine();
                if (line is null)
                {
                    Assert.Fail($"child exited early: {child.StandardError.ReadToEnd()}");
                }

                if (line.StartsWith("applied ", StringComparison.Ordinal))
                {
                    reported = ulong.Parse(line.AsSpan(8), System.Globalization.CultureInfo.InvariantCulture);
                    seen++;
                }
            }

            Assert.True(seen >= batchesBeforeKill, "child made no progress in 60 s");
        }
        finally
        {
            // SIGKILL on Linux: no finalizers, no RocksDB close.
            child.Kill(entireProcessTree: false);
            child.WaitForExit(30_000);
        }

        return reported;
    }
}
