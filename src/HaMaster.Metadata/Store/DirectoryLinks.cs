using System.Runtime.InteropServices;

namespace HaMaster.Metadata.Store;

/// <summary>Clones a RocksDB checkpoint directory cheaply: SST files are immutable once written, so
/// they are hard-linked; the small mutable files (MANIFEST, CURRENT, OPTIONS, WAL) are copied.</summary>
internal static partial class DirectoryLinks
{
    public static void LinkOrCopy(string source, string target)
    {
        if (!Directory.Exists(source))
        {
            throw new DirectoryNotFoundException($"snapshot directory {source} does not exist");
        }

        Directory.CreateDirectory(target);
        foreach (var file in Directory.EnumerateFiles(source))
        {
            var destination = Path.Combine(target, Path.GetFileName(file));
            if (!file.EndsWith(".sst", StringComparison.Ordinal) || !TryHardLink(file, destination))
            {
                File.Copy(file, destination);
            }
        }
    }

    private static bool TryHardLink(string existing, string link)
    {
        if (!OperatingSystem.IsLinux() && !OperatingSystem.IsMacOS())
        {
            return false;
        }

        try
        {
            return Link(existing, link) == 0;
        }
        catch (DllNotFoundException)
        {
            return false;
        }
        catch (EntryPointNotFoundException)
        {
            return false;
        }
    }

    [LibraryImport("libc", EntryPoint = "link", StringMarshalling = StringMarshalling.Utf8, SetLastError = true)]
    private static partial int Link(string existing, string link);
}
