using System.Buffers.Binary;
using System.Diagnostics;
using HaMaster.Chaos.Core.Files;
using Xunit.Abstractions;

namespace HaMaster.Journal.Tests;

/// <summary>
/// Real processes: the crash child appends with group commit (many concurrent writers) and prints
/// each acknowledged (durable) index; we SIGKILL it at seeded random points, many times, and check
/// after every kill that each acknowledged entry is present and intact.
/// Replay a failure with JOURNAL_CRASH_SEED=&lt;seed&gt;.
/// </summary>
public class CrashProcessTests(ITestOutputHelper output)
{
    private readonly record struct Identity(uint Run, uint Writer, uint Seq);

    [Fact]
    public async Task Acknowledged_entries_survive_repeated_SIGKILL()
    {
        var seed = Environment.GetEnvironmentVariable("JOURNAL_CRASH_SEED") is { } s ? int.Parse(s) : 20261122;
        var random = new Random(seed);
        using var dir = new TempDirectory();
        var acknowledged = new Dictionary<ulong, Identity>();
        var child = Path.Combine(AppContext.BaseDirectory, "HaMaster.Journal.CrashChild.dll");
        var dotnet = Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") is { Length: > 0 } host ? host : "dotnet";
        const int rounds = 20;
        for (var round = 0; round < rounds; round++)
        {
            var killAfter = random.Next(1, 1200);
            var writers = new[] { 1, 8, 64 }[random.Next(3)];
            var context = $"seed {seed} round {round} (writers {writers}, kill after {killAfter} acks)";
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
            var start = new ProcessStartInfo(dotnet)
            {
                RedirectStandardOutput = true,
                RedirectStandardError = true,
                UseShellExecute = false,
            };
            foreach (var arg in new[] { child, dir.Path, writers.ToString(), (256 << 10).ToString() })
            {
                start.ArgumentList.Add(arg);
            }
            using var process = Process.Start(start)!;
            var stderr = process.StandardError.ReadToEndAsync(timeout.Token);
            var ready = await process.StandardOutput.ReadLineAsync(timeout.Token);
            if (ready is null || !ready.StartsWith("ready ", StringComparison.Ordinal))
            {
                Assert.Fail($"{context}: child did not start: {ready} {await stderr}");
            }
            var recoveredLast = ulong.Parse(ready["ready ".Length..]);
            var maxAcknowledged = acknowledged.Count == 0 ? 0 : acknowledged.Keys.Max();
            Assert.True(recoveredLast >= maxAcknowledged, $"{context}: recovered log ends at {recoveredLast}, but {maxAcknowledged} was acknowledged");

            var seen = 0;
            var killed = false;
            while (await process.StandardOutput.ReadLineAsync(timeout.Token) is { } line)
            {
                var parts = line.Split(' ');
                Assert.Equal("ack", parts[0]);
                var index = ulong.Parse(parts[1]);
                var identity = new Identity(uint.Parse(parts[2]), uint.Parse(parts[3]), uint.Parse(parts[4]));
                Assert.True(acknowledged.TryAdd(index, identity), $"{context}: index {index} acknowledged twice");
                if (++seen >= killAfter && !killed)
                {
                    process.Kill(); // SIGKILL; acks already in the pipe are still read and count
                    killed = true;
                }
            }
            await process.WaitForExitAsync(timeout.Token);
            Assert.True(killed, $"{context}: child exited by itself: {await stderr}");
            VerifyAll(dir.Path, acknowledged, context);
        }
        output.WriteLine($"seed {seed}: {rounds} SIGKILLs, {acknowledged.Count} acknowledged entries all intact");
    }

    private static void VerifyAll(string directory, Dictionary<ulong, Identity> acknowledged, string context)
    {
        using var log = RaftLog.Open(new RaftLogOptions { Directory = directory, SegmentBytes = 256 << 10 });
        var last = acknowledged.Keys.Max();
        Assert.True(log.LastIndex >= last, $"{context}: log ends at {log.LastIndex}, {last} was acknowledged");
        foreach (var record in log.Read(1, last + 1, long.MaxValue))
        {
            if (!acknowledged.TryGetValue(record.Index, out var expected))
            {
                continue; // written but never acknowledged: allowed to exist
            }
            var payload = record.Payload.Span;
            var actual = new Identity(
                BinaryPrimitives.ReadUInt32LittleEndian(payload),
                BinaryPrimitives.ReadUInt32LittleEndian(payload[4..]),
                BinaryPrimitives.ReadUInt32LittleEndian(payload[8..]));
            Assert.True(expected == actual, $"{context}: index {record.Index} holds {actual}, acknowledged as {expected}");
            Assert.Equal((int)BinaryPrimitives.ReadUInt32LittleEndian(payload[12..]), payload.Length);
            for (var i = 16; i < payload.Length; i++)
            {
                Assert.True(payload[i] == (byte)(actual.Run ^ actual.Writer ^ actual.Seq ^ (uint)i), $"{context}: payload of {record.Index} damaged at byte {i}");
            }
            Assert.Equal(1UL, record.Term);
            Assert.Equal(7, record.Kind);
        }
    }
}
