using System.Runtime.InteropServices;

namespace HaMaster.Rocks.Native;

/// <summary>
/// Base of every handle to a native RocksDB object. A handle may depend on other handles
/// (an iterator on its database, read options and snapshot): it takes a reference on each
/// dependency when constructed, before the native object exists, and gives them back only
/// after its own native object is freed. So native objects are always destroyed children
/// first, whatever order the managed owners are disposed or finalized in.
/// </summary>
/// <remarks>
/// Thread-safety: SafeHandle reference counting makes Dispose safe against concurrent use
/// from other threads (the free is deferred until the last in-flight native call returns).
/// <see cref="LiveCount"/> counts native objects not yet freed, process-wide (tests use it
/// to prove there are no leaks).
/// </remarks>
internal abstract class RocksHandle : SafeHandle
{
    private static long s_live;
    private SafeHandle[]? _dependencies;

    protected RocksHandle(params SafeHandle?[] dependencies)
        : base(0, ownsHandle: true)
    {
        var taken = new List<SafeHandle>(dependencies.Length);
        try
        {
            foreach (var dependency in dependencies)
            {
                if (dependency is null)
                {
                    continue;
                }

                var added = false;
                dependency.DangerousAddRef(ref added); // throws ObjectDisposedException when already closed
                taken.Add(dependency);
            }
        }
        catch
        {
            foreach (var dependency in taken)
            {
                dependency.DangerousRelease();
            }

            throw; // _dependencies stays null, so the finalizer of this half-built handle releases nothing
        }

        _dependencies = taken.Count == 0 ? null : [.. taken];
    }

    /// <summary>Native objects created and not yet freed, across the process.</summary>
    internal static long LiveCount => Interlocked.Read(ref s_live);

    public override bool IsInvalid => handle == 0;

    /// <summary>Takes ownership of a freshly created native pointer.</summary>
    /// <exception cref="RocksDbException">The native constructor returned null.</exception>
    internal void Attach(nint pointer, string operation)
    {
        if (pointer == 0)
        {
            throw new RocksDbException(operation, null, "RocksDB returned a null object");
        }

        SetHandle(pointer);
        Interlocked.Increment(ref s_live);
    }

    /// <summary>The raw pointer of a dependency (valid while this handle lives: we hold a reference on it).</summary>
    protected nint DependencyPointer(int index) => _dependencies![index].DangerousGetHandle();

    /// <summary>Frees the native object; called exactly once, with a valid pointer.</summary>
    protected abstract void Free(nint pointer);

    protected sealed override bool ReleaseHandle()
    {
        Free(handle);
        Interlocked.Decrement(ref s_live);
        ReleaseDependencies();
        return true;
    }

    protected override void Dispose(bool disposing)
    {
        base.Dispose(disposing);
        if (IsInvalid)
        {
            // Never attached (the native constructor failed): ReleaseHandle will not run.
            ReleaseDependencies();
        }
    }

    private void ReleaseDependencies()
    {
        var dependencies = Interlocked.Exchange(ref _dependencies, null);
        if (dependencies is null)
        {
            return;
        }

        foreach (var dependency in dependencies)
        {
            dependency.DangerousRelease();
        }
    }
}
