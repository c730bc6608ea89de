using System.Diagnostics;
using System.Runtime.InteropServices;

namespace HaMaster.Journal.Bench;

/// <summary>Measures fdatasync (libc) against fsync (FileStream.Flush(true)) for small appends into a preallocated file.</summary>
internal static partial class RawSync
{
    public static IEnumerable<string> Measure(string root)
    {
        const int count = 300;
        var path = Path.Combine(root, "rawsync.dat");
        var block = new byte[4096];
        using (var stream = new FileStream(path, new FileStreamOptions { Mode = FileMode.Create, Access = FileAccess.ReadWrite, PreallocationSize = 64 << 20 }))
        {
            stream.SetLength(64 << 20);
            stream.Flush(true);
            var fd = (int)stream.SafeFileHandle.DangerousGetHandle();
            var clock = Stopwatch.StartNew();
            for (var i = 0; i < count; i++)
            {
                RandomAccess.Write(stream.SafeFileHandle, block, (long)i * 4096);
                if (FDataSync(fd) != 0)
                {
                    throw new IOException("fdatasync failed");
                }
            }
            var fdatasync = clock.Elapsed.TotalMilliseconds / count;
            clock.Restart();
            for (var i = 0; i < count; i++)
            {
                RandomAccess.Write(stream.SafeFileHandle, block, (long)(count + i) * 4096);
                stream.Flush(true);
            }
            var fsync = clock.Elapsed.TotalMilliseconds / count;
            yield return $"fdatasync: {fdatasync:0.000} ms/op ({1000 / fdatasync:N0}/s)";
            yield return $"fsync (FileStream.Flush(true)): {fsync:0.000} ms/op ({1000 / fsync:N0}/s)";
        }
        File.Delete(path);
    }

    [LibraryImport("libc", EntryPoint = "fdatasync", SetLastError = true)]
    private static partial int FDataSync(int fd);
}
