using HaMaster.Metadata.Queries;
using HaMaster.Metadata.Store;
using HaMaster.Protos.V1;
using static HaMaster.Metadata.Commands.CommandDispatch;

namespace HaMaster.Metadata;

/// <summary>One entry of the expiry index: an inode and the time (ms since the epoch) its ttl runs out.</summary>
public readonly record struct TtlDue(ulong InodeId, long ExpiryMs);

/// <summary>The namespace's side of a path under a mount (see <see cref="MetadataStateMachine.GetLoadState"/>).</summary>
/// <param name="Exists">The whole path exists.</param>
/// <param name="BlockedByFile">An ancestor of the path is a file.</param>
/// <param name="ExistingDepth">Components that exist (the deepest existing inode is the path's prefix of this many).</param>
/// <param name="DeepestIsDirectory">The deepest existing inode is a directory.</param>
/// <param name="ChildrenLoaded">The deepest existing directory's children were all loaded from the store.</param>
/// <param name="Fingerprint">The deepest existing inode's store fingerprint.</param>
public sealed record LoadState(bool Exists, bool BlockedByFile, int ExistingDepth, bool DeepestIsDirectory, bool ChildrenLoaded, string Fingerprint);

/// <summary>
/// The state machine's constants that apply results depend on (every replica must agree on them),
/// and its reads for mounted stores and the TTL checker. The commands themselves live in Commands/.
/// </summary>
public sealed partial class MetadataStateMachine
{
    /// <summary>Fingerprint of a directory loaded from a store (UfsStatus.Fingerprint of a directory).</summary>
    internal const string DirectoryFingerprint = "d";

    /// <summary>The committed mount table (immutable; safe from any thread without locks).</summary>
    public MountTable Mounts => Volatile.Read(ref _store).Mounts;

    /// <inheritdoc cref="NamespaceReads.GetLoadState"/>
    public MetadataResult<LoadState> GetLoadState(string path) => _reads.GetLoadState(path);

    /// <inheritdoc cref="NamespaceReads.ListDueTtl"/>
    public IReadOnlyList<TtlDue> ListDueTtl(long nowMs, int maxExamined) => _reads.ListDueTtl(nowMs, maxExamined);

    /// <inheritdoc cref="NamespaceReads.TtlIndexCount"/>
    public long TtlIndexCount => _reads.TtlIndexCount;

    /// <summary>
    /// The result <paramref name="entry"/> would have if it were applied now, against the committed
    /// state, without changing anything (sessions are not consulted: a retry of an applied write
    /// previews as its command would run again, e.g. NOT_FOUND for a delete already done). The
    /// leader uses it to skip the store operation of a write the namespace will refuse (missing
    /// path, permission denied, read-only mount...). Safe from any thread; holds the read lock
    /// while the command runs against a private transaction that is then dropped.
    /// </summary>
    public CommandResult Preview(JournalEntry entry)
    {
        ArgumentNullException.ThrowIfNull(entry);
        return Read(store => Execute(new ApplyTransaction(store), entry));
    }

    /// <summary>The fingerprint of a directory that is in the store (loaded or written through).</summary>
    public const string StoreDirectoryFingerprint = DirectoryFingerprint;

    /// <summary>An optional <c>write_through</c> field: absent means on (the default).</summary>
    public static bool WritesThrough(bool hasField, bool value) => !hasField || value;

    /// <summary>Block size used when neither the request nor the entry names one (64 MiB).</summary>
    internal const ulong FallbackBlockSizeBytes = 64UL << 20;

    /// <summary>Largest permission value (07777).</summary>
    internal const uint MaxMode = 0xFFF;

    /// <summary>Results kept per client (a client has at most this many writes in flight).
    /// A constant, not an option: it changes apply results, so every replica must agree.</summary>
    internal const int SessionResultsPerClient = 64;

    /// <summary>A client silent for this long (in entry time) loses its session.</summary>
    internal const long SessionExpiryMs = 60 * 60 * 1000;

    /// <summary>How often (in entry time) expired sessions are swept.</summary>
    internal const long SessionSweepIntervalMs = 60 * 1000;
}
