using System.Runtime.InteropServices;

namespace HaMaster.Rocks.Lifetime;

/// <summary>
/// Reference-counts one RocksDbSharp object (a database, iterator, snapshot, read options, batch)
/// so that disposing it while another thread is inside a call on it is safe: every call holds a
/// <see cref="Lease"/>, and the release action runs only after the last lease is returned.
/// A lifetime may depend on others (an iterator on its database, read options and snapshot): it
/// holds a reference on each from construction until after its own release, so native objects
/// are always freed children first, whatever order their owners are disposed or finalized in.
/// </summary>
/// <remarks>
/// RocksDbSharp's objects hold raw pointers and free them on Dispose without any such guard; this
/// is what keeps a metrics thread reading a property from crashing the process while a snapshot
/// restore closes the database. <see cref="LiveCount"/> counts objects not yet released,
/// process-wide (tests use it to prove there are no leaks).
/// </remarks>
internal sealed class NativeLifetime : SafeHandle
{
    private static long s_live;
    private readonly Action _release;
    private NativeLifetime[]? _dependencies;

    /// <param name="release">Frees the object; runs exactly once, after the last lease.</param>
    /// <param name="dependencies">Lifetimes this object needs alive; null entries are skipped.</param>
    /// <exception cref="ObjectDisposedException">A dependency is already disposed.</exception>
    public NativeLifetime(Action release, params NativeLifetime?[] dependencies)
        : base(0, ownsHandle: true)
    {
        _release = release;
        var taken = new List<NativeLifetime>(dependencies.Length);
        try
        {
            foreach (var dependency in dependencies)
            {
                if (dependency is null)
                {
                    continue;
                }

                var added = false;
                dependency.DangerousAddRef(ref added);
                taken.Add(dependency);
            }
        }
        catch
        {
            foreach (var dependency in taken)
            {
                dependency.DangerousRelease();
            }

            SetHandleAsInvalid();
            throw;
        }

        _dependencies = taken.Count == 0 ? null : [.. taken];
        SetHandle(1);
        Interlocked.Increment(ref s_live);
    }

    /// <summary>Objects created and not yet released, across the process.</summary>
    public static long LiveCount => Interlocked.Read(ref s_live);

    public override bool IsInvalid => handle == 0;

    /// <summary>Holds the object alive for a scope.</summary>
    /// <exception cref="ObjectDisposedException">Already disposed.</exception>
    public Lease Acquire() => new(this);

    protected override bool ReleaseHandle()
    {
        try
        {
            _release();
        }
        finally
        {
            Interlocked.Decrement(ref s_live);
            var dependencies = Interlocked.Exchange(ref _dependencies, null);
            foreach (var dependency in dependencies ?? [])
            {
                dependency.DangerousRelease();
            }
        }

        return true;
    }

    /// <summary>A reference on a lifetime for the length of a scope (use with <c>using</c>);
    /// the default value holds nothing.</summary>
    public readonly ref struct Lease
    {
        private readonly NativeLifetime? _lifetime;

        public Lease(NativeLifetime lifetime)
        {
            var added = false;
            lifetime.DangerousAddRef(ref added); // throws ObjectDisposedException once disposed
            _lifetime = lifetime;
        }

        public void Dispose() => _lifetime?.DangerousRelease();
    }
}
