using System.Text;
using Tmds.Linux;

namespace HaMaster.Metadata.Store;

/// <summary>Clones a RocksDB checkpoint directory cheaply: SST files are immutable once written, so
/// they are hard-linked; the small mutable files (MANIFEST, CURRENT, OPTIONS, WAL) are copied.</summary>
internal static class DirectoryLinks
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
        if (!OperatingSystem.IsLinux()) // Tmds.LibC binds Linux only
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

    private static unsafe int Link(string existing, string link)
    {
        var from = Encoding.UTF8.GetBytes(existing + "\0");
        var to = Encoding.UTF8.GetBytes(link + "\0");
        fixed (byte* f = from)
        fixed (byte* t = to)
        {
            return LibC.link(f, t);
        }
    }
}
