using System.Diagnostics;
using System.Globalization;
using HaMaster.Server.Hosting;
using Microsoft.AspNetCore.Builder;

namespace HaMaster.Server.Tests.Hosting;

/// <summary>
/// A master's hosts watch no files: the framework's default builder puts a recursive inotify
/// watch on its content root (one per directory below it), which for a master started in its
/// data directory or in / meant events on every RocksDB write or a watch on the whole machine.
/// </summary>
public sealed class KestrelHostTests
{
    [Fact]
    public async Task The_framework_default_watches_its_content_root_so_the_probe_works()
    {
        var root = Directory.CreateTempSubdirectory("hamaster-watch-");
        try
        {
            var inode = Inode(root.FullName);
            await using var app = WebApplication.CreateSlimBuilder(new WebApplicationOptions { ContentRootPath = root.FullName }).Build();
            Assert.Contains(inode, WatchedInodes());
        }
        finally
        {
            root.Delete(recursive: true);
        }
    }

    [Fact]
    public async Task A_masters_host_watches_neither_its_base_nor_its_working_directory()
    {
        await using var app = KestrelHost.CreateBuilder().Build();
        var watched = WatchedInodes();
        Assert.DoesNotContain(Inode(AppContext.BaseDirectory), watched);
        Assert.DoesNotContain(Inode(Environment.CurrentDirectory), watched);
    }

    /// <summary>Inode numbers of every directory this process watches through inotify (from /proc/self/fdinfo).</summary>
    private static HashSet<ulong> WatchedInodes()
    {
        var inodes = new HashSet<ulong>();
        foreach (var file in Directory.EnumerateFiles("/proc/self/fdinfo"))
        {
            string[] lines;
            try
            {
                lines = File.ReadAllLines(file);
            }
            catch (IOException)
            {
                continue; // the descriptor closed meanwhile
            }

            foreach (var line in lines)
            {
                if (!line.StartsWith("inotify wd:", StringComparison.Ordinal))
                {
                    continue;
                }

                var field = line.Split(' ').First(f => f.StartsWith("ino:", StringComparison.Ordinal));
                inodes.Add(ulong.Parse(field["ino:".Length..], NumberStyles.HexNumber, CultureInfo.InvariantCulture));
            }
        }

        return inodes;
    }

    private static ulong Inode(string path)
    {
        using var stat = Process.Start(new ProcessStartInfo("stat", ["-c", "%i", path]) { RedirectStandardOutput = true })!;
        var text = stat.StandardOutput.ReadToEnd();
        stat.WaitForExit();
        return ulong.Parse(text.Trim(), CultureInfo.InvariantCulture);
    }
}
