using System.Buffers.Binary;
using HaMaster.Journal;

// Usage: HaMaster.Journal.CrashChild <directory> <writers> <segmentBytes>
// Opens the log (recovering it), prints "ready <lastIndex>", then <writers> concurrent loops append
// self-describing entries with group commit and print "ack <index> <writer> <seq>" once each is
// durable. Runs until killed. Exit code 2 and a message on stderr if recovery refuses the log.
if (args.Length < 3)
{
    Console.Error.WriteLine("usage: <directory> <writers> <segmentBytes>");
    return 64;
}
var directory = args[0];
var writers = int.Parse(args[1]);
var segmentBytes = long.Parse(args[2]);
RaftLog log;
try
{
    log = RaftLog.Open(new RaftLogOptions { Directory = directory, SegmentBytes = segmentBytes });
}
catch (JournalCorruptedException e)
{
    Console.Error.WriteLine(e.Message);
    return 2;
}
var output = new StreamWriter(Console.OpenStandardOutput()) { AutoFlush = true };
var outputLock = new Lock();
lock (outputLock)
{
    output.WriteLine($"ready {log.LastIndex}");
}
var runId = (uint)Environment.ProcessId;
var tasks = Enumerable.Range(0, writers).Select(w => Task.Run(async () =>
{
    for (uint seq = 0; ; seq++)
    {
        var payload = CrashPayload.Create(runId, (uint)w, seq);
        var index = await log.AppendNextAndFlushAsync(1, 7, payload);
        lock (outputLock)
        {
            output.WriteLine($"ack {index} {runId} {w} {seq}");
        }
    }
})).ToArray();
await Task.WhenAll(tasks);
return 0;

/// <summary>Payload that identifies its writer and can be checked for integrity on its own.</summary>
internal static class CrashPayload
{
    public static byte[] Create(uint run, uint writer, uint seq)
    {
        var length = 16 + (int)((seq * 37 + writer) % 300);
        var bytes = new byte[length];
        BinaryPrimitives.WriteUInt32LittleEndian(bytes, run);
        BinaryPrimitives.WriteUInt32LittleEndian(bytes.AsSpan(4), writer);
        BinaryPrimitives.WriteUInt32LittleEndian(bytes.AsSpan(8), seq);
        BinaryPrimitives.WriteUInt32LittleEndian(bytes.AsSpan(12), (uint)length);
        for (var i = 16; i < length; i++)
        {
            bytes[i] = (byte)(run ^ writer ^ seq ^ (uint)i);
        }
        return bytes;
    }
}
