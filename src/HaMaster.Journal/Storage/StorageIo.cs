using Microsoft.Win32.SafeHandles;
using System.Runtime.InteropServices;
using Tmds.Linux;

namespace HaMaster.Journal;

/// <summary>
/// The journal's only door to durable storage: positioned writes, fdatasync, directory fsync,
/// create and rename, each passing through the optional <see cref="IStorageFaults"/>.
/// Stateless apart from the fault hook; thread-safe.
/// </summary>
internal sealed class StorageIo(IStorageFaults? faults, bool fsync = true)
{
    public IStorageFaults? Faults { get; } = faults;

    public bool FsyncEnabled { get; } = fsync;

    public static bool IsLinux { get; } = OperatingSystem.IsLinux();

    /// <summary>Counts syncs issued (file and directory), for benchmarks.</summary>
    public long SyncCount => Interlocked.Read(ref _syncCount);

    private long _syncCount;

    public SafeFileHandle Create(string path, long preallocate)
    {
        Faults?.BeforeCreate(path);
        return File.OpenHandle(path, FileMode.CreateNew, FileAccess.ReadWrite, FileShare.Read, FileOptions.None, preallocate);
    }

    public void Write(SafeFileHandle handle, string path, ReadOnlySpan<byte> data, long offset)
    {
        if (Faults is { } f)
        {
            var allowed = f.BeforeWrite(path, offset, data.Length);
            if (allowed < data.Length)
            {
                if (allowed > 0)
                {
                    RandomAccess.Write(handle, data[..allowed], offset);
                }
                throw new SimulatedCrashException($"simulated crash tore a {data.Length}-byte write to '{path}' at offset {offset} after {allowed} bytes");
            }
        }
        RandomAccess.Write(handle, data, offset);
        Faults?.AfterWrite(path, offset, data.Length);
    }

    /// <summary>fdatasync: the file's data (and the metadata needed to read it back) reach the disk.</summary>
    public void SyncData(SafeFileHandle handle, string path)
    {
        Faults?.BeforeSync(path);
        if (FsyncEnabled)
        {
            Interlocked.Increment(ref _syncCount);
            if (IsLinux)
            {
                var added = false;
                try
                {
                    handle.DangerousAddRef(ref added);
                    if (LibC.fdatasync((int)handle.DangerousGetHandle()) != 0)
                    {
                        var errno = LibC.errno;
                        throw new IOException($"fdatasync of '{path}' failed: {Marshal.GetPInvokeErrorMessage(errno)} (errno {errno})", errno);
                    }
                }
                finally
                {
                    if (added)
                    {
                        handle.DangerousRelease();
                    }
                }
            }
            else
            {
                RandomAccess.FlushToDisk(handle);
            }
        }
        Faults?.AfterSync(path);
    }

    /// <summary>fsync of a directory, so that creates, renames and deletes in it are durable.</summary>
    public void SyncDirectory(string path)
    {
        Faults?.BeforeSync(path);
        if (FsyncEnabled && IsLinux)
        {
            Interlocked.Increment(ref _syncCount);
            var fd = OpenDirectoryReadOnly(path);
            if (fd < 0)
            {
                var errno = LibC.errno;
                throw new IOException($"opening directory '{path}' for fsync failed: {Marshal.GetPInvokeErrorMessage(errno)} (errno {errno})", errno);
            }
            try
            {
                if (LibC.fsync(fd) != 0)
                {
                    var errno = LibC.errno;
                    throw new IOException($"fsync of directory '{path}' failed: {Marshal.GetPInvokeErrorMessage(errno)} (errno {errno})", errno);
                }
            }
            finally
            {
                _ = LibC.close(fd);
            }
        }
        Faults?.AfterSync(path);
    }

    /// <summary>Atomic replace of <paramref name="destination"/> by <paramref name="source"/> (rename(2)); the caller syncs the directory.</summary>
    public void Rename(string source, string destination)
    {
        Faults?.BeforeRename(source, destination);
        if (System.IO.Directory.Exists(source))
        {
            System.IO.Directory.Move(source, destination);
        }
        else
        {
            File.Move(source, destination, overwrite: true);
        }
    }

    public void CreateDirectory(string path)
    {
        if (!System.IO.Directory.Exists(path))
        {
            Faults?.BeforeCreate(path);
            System.IO.Directory.CreateDirectory(path);
        }
    }

    /// <summary>Writes a whole small file durably under a temporary name, then renames it over <paramref name="path"/> and syncs the directory.</summary>
    public void WriteFileAtomically(string path, ReadOnlySpan<byte> content)
    {
        var tmp = path + ".tmp";
        if (File.Exists(tmp))
        {
            File.Delete(tmp);
        }
        using (var handle = Create(tmp, 0))
        {
            Write(handle, tmp, content, 0);
            SyncData(handle, tmp);
        }
        Rename(tmp, path);
        SyncDirectory(System.IO.Path.GetDirectoryName(System.IO.Path.GetFullPath(path))!);
    }

    /// <summary>open(2) of a directory, read-only, for fsync: the BCL cannot open directories.</summary>
    private static unsafe int OpenDirectoryReadOnly(string path)
    {
        var bytes = System.Text.Encoding.UTF8.GetBytes(path + "\0");
        fixed (byte* p = bytes)
        {
            return LibC.open(p, LibC.O_RDONLY | LibC.O_DIRECTORY | LibC.O_CLOEXEC);
        }
    }
}
