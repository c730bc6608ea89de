using System.Text;
using HaMaster.Journal;

namespace HaMaster.Journal.Tests;

internal static class Records
{
    /// <summary>Deterministic payload for an entry, so content can be checked after reopen.</summary>
    public static byte[] PayloadFor(ulong index, ulong term, int length)
    {
        var bytes = new byte[length];
        for (var i = 0; i < length; i++)
        {
            bytes[i] = (byte)(index * 131 + term * 7 + (ulong)i);
        }
        return bytes;
    }

    public static LogRecord Make(ulong index, ulong term, int length = 100) =>
        new(index, term, (byte)(index % 5), PayloadFor(index, term, length));

    public static List<LogRecord> Range(ulong first, ulong count, ulong term, int length = 100) =>
        [.. Enumerable.Range(0, (int)count).Select(i => Make(first + (ulong)i, term, length))];

    public static void AssertSame(LogRecord expected, LogRecord actual)
    {
        Assert.Equal(expected.Index, actual.Index);
        Assert.Equal(expected.Term, actual.Term);
        Assert.Equal(expected.Kind, actual.Kind);
        Assert.True(expected.Payload.Span.SequenceEqual(actual.Payload.Span), $"payload of {expected.Index} differs");
    }

    public static RaftLogOptions Options(string dir, long segmentBytes = 64 << 10, bool preallocate = true) =>
        new() { Directory = dir, SegmentBytes = segmentBytes, PreallocateSegments = preallocate };

    public static string Describe(RecoveryReport r) => new StringBuilder().Append(r).ToString();
}
