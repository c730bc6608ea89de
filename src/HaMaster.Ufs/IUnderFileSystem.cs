namespace HaMaster.Ufs;

/// <summary>
/// One mounted external store, rooted at the mount's store location (for example the directory
/// of a <c>file://</c> URI or the bucket and prefix of an <c>s3://</c> URI).
/// </summary>
/// <remarks>
/// Paths are relative to that root, use '/' as separator, have no leading or trailing '/',
/// and <c>""</c> is the root itself ("a/b" is the entry b in directory a). Implementations are
/// safe for concurrent use. Expected failures (missing entry, no permission, store down, bad
/// credentials) are thrown as <see cref="UfsException"/> with a <see cref="UfsErrorKind"/>;
/// nothing else escapes except <see cref="OperationCanceledException"/>.
/// </remarks>
public interface IUnderFileSystem : IAsyncDisposable
{
    /// <summary>The URI this instance was created for, as given to the factory.</summary>
    Uri Root { get; }

    /// <summary>The entry at <paramref name="path"/>, or null when it does not exist.</summary>
    ValueTask<UfsStatus?> GetStatusAsync(string path, CancellationToken cancellationToken);

    /// <summary>
    /// One page of the direct children of the directory <paramref name="path"/>, in ordinal
    /// (byte-wise UTF-8) name order. Pass the previous page's <see cref="UfsListing.ContinuationToken"/>
    /// to get the next; a null token in the result means the listing is complete. Throws
    /// <see cref="UfsErrorKind.NotFound"/> when the directory does not exist.
    /// </summary>
    ValueTask<UfsListing> ListAsync(string path, string? continuationToken, int maxEntries, CancellationToken cancellationToken);

    /// <summary>Creates the directory and its missing parents; succeeds if it already exists.</summary>
    ValueTask MkdirsAsync(string path, CancellationToken cancellationToken);

    /// <summary>Creates an empty file (used for files created through a mount); fails with AlreadyExists if present.</summary>
    ValueTask CreateEmptyFileAsync(string path, CancellationToken cancellationToken);

    /// <summary>Deletes a file, or a directory (with its content when <paramref name="recursive"/>). Returns false if nothing was there.</summary>
    ValueTask<bool> DeleteAsync(string path, bool recursive, CancellationToken cancellationToken);

    /// <summary>Renames a file or directory; the destination must not exist. Fails with NotFound if the source is missing.</summary>
    ValueTask RenameAsync(string source, string destination, CancellationToken cancellationToken);
}

/// <summary>
/// Status of one store entry. <see cref="Name"/> is the last path component ("" for the root).
/// The fingerprint (<see cref="Length"/>, <see cref="ModificationTimeMs"/>, <see cref="ContentTag"/>)
/// is what metadata sync compares: equal fingerprints mean unchanged.
/// </summary>
/// <param name="Name">Last path component, "" for the root.</param>
/// <param name="IsDirectory">True for a directory (or an S3 common prefix).</param>
/// <param name="Length">Bytes; 0 for directories.</param>
/// <param name="ModificationTimeMs">Last modification, milliseconds since the Unix epoch (0 if the store has none).</param>
/// <param name="ContentTag">A store-specific content identity: the S3 ETag, or for local files
/// a tag derived from length and modification time (empty for directories).</param>
public sealed record UfsStatus(string Name, bool IsDirectory, long Length, long ModificationTimeMs, string ContentTag)
{
    /// <summary>A compact string that changes whenever the entry's content or kind changes.</summary>
    public string Fingerprint => IsDirectory ? "d" : $"f:{Length}:{ModificationTimeMs}:{ContentTag}";
}

/// <summary>One page of a directory listing.</summary>
public sealed record UfsListing(IReadOnlyList<UfsStatus> Entries, string? ContinuationToken);

/// <summary>Why a store operation failed; the server maps each to one gRPC status.</summary>
public enum UfsErrorKind
{
    /// <summary>The entry (or its parent) does not exist: NOT_FOUND.</summary>
    NotFound,
    /// <summary>The destination already exists: ALREADY_EXISTS.</summary>
    AlreadyExists,
    /// <summary>The store refused our credentials or the operation: PERMISSION_DENIED.</summary>
    PermissionDenied,
    /// <summary>The store cannot be reached or timed out: UNAVAILABLE.</summary>
    Unavailable,
    /// <summary>The URI, path or an option is not valid for this store: INVALID_ARGUMENT.</summary>
    InvalidArgument,
    /// <summary>The operation does not apply (e.g. delete of a non-empty directory without recursive): FAILED_PRECONDITION.</summary>
    FailedPrecondition,
}

/// <summary>An expected store failure, with a message that names the store path and the reason.</summary>
public sealed class UfsException(UfsErrorKind kind, string message, Exception? inner = null) : Exception(message, inner)
{
    public UfsErrorKind Kind { get; } = kind;
}

/// <summary>Creates connectors for one URI scheme.</summary>
public interface IUnderFileSystemFactory
{
    /// <summary>The scheme this factory serves, lower case ("file", "s3").</summary>
    string Scheme { get; }

    /// <summary>
    /// Checks <paramref name="root"/> and <paramref name="properties"/> (credentials, endpoint...)
    /// without contacting the store, and returns a connector. Throws InvalidArgument for a
    /// malformed URI or unknown/invalid property.
    /// </summary>
    IUnderFileSystem Create(Uri root, IReadOnlyDictionary<string, string> properties);
}
