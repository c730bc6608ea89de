using Amazon.S3;
using Amazon.S3.Model;

namespace HaMaster.Ufs.S3;

/// <summary>
/// An <c>s3://bucket/prefix</c> store through the AWS SDK for .NET, with the directory semantics
/// of Alluxio's S3 connector: S3 has only keys, so a directory is either a zero-byte marker
/// object <c>name/</c> (written by <see cref="MkdirsAsync"/>) or an implicit common prefix (some key
/// starts with <c>name/</c>). A key that is both an object and a prefix shows as the file.
/// </summary>
/// <remarks>
/// Every S3 request is bounded by <see cref="S3StoreOptions.Timeout"/> (including the SDK's
/// bounded retries) and failures are mapped to <see cref="UfsException"/> in one place
/// (<see cref="S3Errors"/>). Multi-request operations (mkdirs, delete, rename) are not atomic:
/// a failure or crash in the middle leaves the keys done so far. Safe for concurrent use (the SDK
/// client is).
/// </remarks>
internal sealed partial class S3UnderFileSystem : IUnderFileSystem
{
    /// <summary>Keys per DeleteObjects request (S3's maximum) and per listing page while walking a subtree.</summary>
    private const int BatchSize = 1000;

    /// <summary>Concurrent CopyObject requests while renaming a directory.</summary>
    private const int CopyConcurrency = 8;

    private readonly string _bucket;
    private readonly string _prefix;
    private readonly S3StoreOptions _options;
    private readonly IAmazonS3 _s3;
    private volatile bool _conditionalPutUnsupported;

    internal S3UnderFileSystem(Uri root, string bucket, string prefix, S3StoreOptions options, IAmazonS3 s3)
    {
        Root = root;
        _bucket = bucket;
        _prefix = prefix;
        _options = options;
        _s3 = s3;
    }

    public Uri Root { get; }

    public async ValueTask<UfsStatus?> GetStatusAsync(string path, CancellationToken cancellationToken)
    {
        if (path.Length == 0)
        {
            // The mount root exists as long as the bucket does (an empty prefix is an empty directory);
            // the probe throws NotFound naming the bucket when it does not.
            await HasKeysUnderAsync(DirectoryPrefix(path), cancellationToken);
            return new UfsStatus(string.Empty, true, 0, 0, string.Empty);
        }

        var key = Key(path);
        var name = NameOf(path);
        try
        {
            var head = await CallAsync("HeadObject", key,
                t => _s3.GetObjectMetadataAsync(new GetObjectMetadataRequest { BucketName = _bucket, Key = key }, t), cancellationToken);
            return FileStatus(name, head.ContentLength, head.LastModified, head.ETag);
        }
        catch (UfsException e) when (e.Kind == UfsErrorKind.NotFound)
        {
            // No such object (or no such bucket: HEAD answers a bare 404 for both; the probe below tells).
        }

        return await HasKeysUnderAsync(key + "/", cancellationToken)
            ? new UfsStatus(name, true, 0, 0, string.Empty)
            : null;
    }

    /// <summary>Writes a marker object for the directory and for each missing ancestor, so each stays when emptied.</summary>
    public async ValueTask MkdirsAsync(string path, CancellationToken cancellationToken)
    {
        var target = await GetStatusAsync(path, cancellationToken);
        if (target is { IsDirectory: true })
        {
            return;
        }

        if (target is not null)
        {
            throw new UfsException(UfsErrorKind.AlreadyExists, $"mkdirs {Location(Key(path))}: a file is there");
        }

        var parts = path.Split('/');
        for (var depth = 1; depth < parts.Length; depth++)
        {
            var ancestor = string.Join('/', parts, 0, depth);
            var status = await GetStatusAsync(ancestor, cancellationToken);
            if (status is { IsDirectory: false })
            {
                throw new UfsException(UfsErrorKind.FailedPrecondition, $"mkdirs {Location(Key(path))}: {Location(Key(ancestor))} is a file");
            }

            if (status is null)
            {
                await PutEmptyAsync(Key(ancestor) + "/", conditional: false, cancellationToken);
            }
        }

        await PutEmptyAsync(Key(path) + "/", conditional: false, cancellationToken);
    }

    /// <summary>
    /// Checks that nothing is at <paramref name="path"/>, then puts a zero-byte object with
    /// <c>If-None-Match: *</c>, so a store that supports conditional writes (S3 since 2024) refuses
    /// a concurrent creator; on one that ignores the header the check-then-put leaves a small race.
    /// </summary>
    public async ValueTask CreateEmptyFileAsync(string path, CancellationToken cancellationToken)
    {
        RequireNotRoot(path, "create");
        var existing = await GetStatusAsync(path, cancellationToken);
        if (existing is not null)
        {
            throw new UfsException(UfsErrorKind.AlreadyExists,
                $"create {Location(Key(path))}: {(existing.IsDirectory ? "a directory" : "a file")} is already there");
        }

        await PutEmptyAsync(Key(path), conditional: true, cancellationToken);
    }

    public async ValueTask<bool> DeleteAsync(string path, bool recursive, CancellationToken cancellationToken)
    {
        RequireNotRoot(path, "delete");
        var status = await GetStatusAsync(path, cancellationToken);
        if (status is null)
        {
            return false;
        }

        var key = Key(path);
        if (!status.IsDirectory)
        {
            await CallAsync("DeleteObject", key,
                t => _s3.DeleteObjectAsync(new DeleteObjectRequest { BucketName = _bucket, Key = key }, t), cancellationToken);
            return true;
        }

        var prefix = key + "/";
        if (!recursive)
        {
            var first = await ListKeysAsync(prefix, null, 2, cancellationToken);
            if (first.Keys.Any(k => k != prefix))
            {
                throw new UfsException(UfsErrorKind.FailedPrecondition, $"delete {Location(prefix)}: the directory is not empty (use recursive)");
            }
        }

        // Page by page: list up to 1,000 keys, delete them in one DeleteObjects, go on. S3's
        // continuation token is a position in key order, so deleting behind it is safe.
        string? token = null;
        for (var page = 0; ; page++)
        {
            var listing = await ListKeysAsync(prefix, token, BatchSize, cancellationToken);
            await DeleteKeysAsync(listing.Keys, cancellationToken);
            token = listing.NextToken;
            if (token is null)
            {
                return true;
            }
        }
    }

    /// <summary>
    /// Copies every key of <paramref name="source"/> to <paramref name="destination"/>, then
    /// deletes the originals, page by page. NOT atomic: other readers see both names (or a
    /// half-moved directory) meanwhile, and a failure or crash in the middle leaves keys under
    /// both; running the rename again finishes it only if the destination did not exist before
    /// (the check below refuses an existing one). Objects over 5 GiB are refused by CopyObject.
    /// </summary>
    public async ValueTask RenameAsync(string source, string destination, CancellationToken cancellationToken)
    {
        RequireNotRoot(source, "rename");
        RequireNotRoot(destination, "rename");
        if (destination == source || destination.StartsWith(source + "/", StringComparison.Ordinal))
        {
            throw new UfsException(UfsErrorKind.InvalidArgument, $"rename {Location(Key(source))} to {Location(Key(destination))}: the destination is inside the source");
        }

        var status = await GetStatusAsync(source, cancellationToken)
            ?? throw new UfsException(UfsErrorKind.NotFound, $"rename {Location(Key(source))}: no such file or directory");
        if (await GetStatusAsync(destination, cancellationToken) is not null)
        {
            throw new UfsException(UfsErrorKind.AlreadyExists, $"rename {Location(Key(source))} to {Location(Key(destination))}: the destination exists");
        }

        var sourceKey = Key(source);
        var destinationKey = Key(destination);
        if (!status.IsDirectory)
        {
            await CopyAsync(sourceKey, destinationKey, cancellationToken);
            await CallAsync("DeleteObject", sourceKey,
                t => _s3.DeleteObjectAsync(new DeleteObjectRequest { BucketName = _bucket, Key = sourceKey }, t), cancellationToken);
            return;
        }

        var sourcePrefix = sourceKey + "/";
        var destinationPrefix = destinationKey + "/";
        string? token = null;
        for (var page = 0; ; page++)
        {
            var listing = await ListKeysAsync(sourcePrefix, token, BatchSize, cancellationToken);
            await Parallel.ForEachAsync(listing.Keys,
                new ParallelOptions { MaxDegreeOfParallelism = CopyConcurrency, CancellationToken = cancellationToken },
                async (key, t) => await CopyAsync(key, destinationPrefix + key[sourcePrefix.Length..], t));
            await DeleteKeysAsync(listing.Keys, cancellationToken);
            token = listing.NextToken;
            if (token is null)
            {
                return;
            }
        }
    }

    public ValueTask DisposeAsync()
    {
        _s3.Dispose();
        return ValueTask.CompletedTask;
    }

    /// <summary>Throws InvalidArgument unless <paramref name="path"/> is relative, '/'-separated, without empty, "." or ".." parts.</summary>
    internal static void CheckRelativePath(string path, Uri root)
    {
        foreach (var part in path.Split('/'))
        {
            if (part.Length == 0 || part == "." || part == "..")
            {
                throw new UfsException(UfsErrorKind.InvalidArgument,
                    $"'{path}' under '{root}' is not a store path (no leading, trailing or doubled '/', no '.' or '..')");
            }
        }
    }

    private string Key(string path)
    {
        if (path.Length == 0)
        {
            return _prefix;
        }

        CheckRelativePath(path, Root);
        return _prefix.Length == 0 ? path : _prefix + "/" + path;
    }

    /// <summary>The key prefix of the directory's children: "" for the bucket root, else "key/".</summary>
    private string DirectoryPrefix(string path)
    {
        var key = Key(path);
        return key.Length == 0 ? string.Empty : key + "/";
    }

    private static string NameOf(string path) => path[(path.LastIndexOf('/') + 1)..];

    private string Location(string key) => $"s3://{_bucket}/{key}";

    private void RequireNotRoot(string path, string operation)
    {
        if (path.Length == 0)
        {
            throw new UfsException(UfsErrorKind.InvalidArgument, $"{operation} of the mount root {Root} is not allowed");
        }
    }

    /// <summary>
    /// S3 (and s3rver) report ListObjects times with milliseconds but HEAD's Last-Modified in whole
    /// seconds: both are cut to seconds so a listed and a stat'ed entry have the same fingerprint.
    /// ETags are stored without their quotes.
    /// </summary>
    internal static UfsStatus FileStatus(string name, long? length, DateTime? modified, string? etag)
    {
        long ms = 0;
        if (modified is { } time)
        {
            var utc = time.Kind switch
            {
                DateTimeKind.Local => time.ToUniversalTime(),
                DateTimeKind.Unspecified => DateTime.SpecifyKind(time, DateTimeKind.Utc),
                _ => time,
            };
            ms = new DateTimeOffset(utc).ToUnixTimeSeconds() * 1000;
        }

        return new UfsStatus(name, false, length ?? 0, ms, (etag ?? string.Empty).Trim('"'));
    }

    /// <summary>One S3 request bounded by the timeout; every failure leaves as a mapped <see cref="UfsException"/>.</summary>
    private async ValueTask<T> CallAsync<T>(string operation, string key, Func<CancellationToken, Task<T>> call, CancellationToken cancellationToken)
    {
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        deadline.CancelAfter(_options.Timeout);
        try
        {
            return await call(deadline.Token);
        }
        catch (Exception e) when (e is not UfsException)
        {
            cancellationToken.ThrowIfCancellationRequested();
            throw S3Errors.Map(e, $"{operation} {Location(key)}", _options.Timeout);
        }
    }

    private async ValueTask PutEmptyAsync(string key, bool conditional, CancellationToken cancellationToken)
    {
        if (conditional && !_conditionalPutUnsupported)
        {
            try
            {
                await CallAsync("PutObject", key, t => _s3.PutObjectAsync(EmptyPut(key, ifNoneMatch: true), t), cancellationToken);
                return;
            }
            catch (UfsException e) when (e.InnerException is AmazonS3Exception { StatusCode: System.Net.HttpStatusCode.NotImplemented })
            {
                // The store does not do conditional writes: fall back to the plain put after our check.
                _conditionalPutUnsupported = true;
            }
        }

        await CallAsync("PutObject", key, t => _s3.PutObjectAsync(EmptyPut(key, ifNoneMatch: false), t), cancellationToken);
    }

    private PutObjectRequest EmptyPut(string key, bool ifNoneMatch)
    {
        // No aws-chunked signing: the body is empty, and S3-compatible servers (s3rver) store the chunk framing.
        var request = new PutObjectRequest { BucketName = _bucket, Key = key, InputStream = new MemoryStream([], writable: false), UseChunkEncoding = false };
        if (ifNoneMatch)
        {
            request.IfNoneMatch = "*";
        }

        return request;
    }

    private ValueTask<CopyObjectResponse> CopyAsync(string sourceKey, string destinationKey, CancellationToken cancellationToken) =>
        CallAsync("CopyObject", sourceKey, t => _s3.CopyObjectAsync(new CopyObjectRequest
        {
            SourceBucket = _bucket,
            SourceKey = sourceKey,
            DestinationBucket = _bucket,
            DestinationKey = destinationKey,
        }, t), cancellationToken);

    private async ValueTask DeleteKeysAsync(IReadOnlyList<string> keys, CancellationToken cancellationToken)
    {
        if (keys.Count == 0)
        {
            return;
        }

        var request = new DeleteObjectsRequest { BucketName = _bucket, Quiet = true, Objects = [.. keys.Select(k => new KeyVersion { Key = k })] };
        var response = await CallAsync("DeleteObjects", keys[0], t => _s3.DeleteObjectsAsync(request, t), cancellationToken);
        if (response.DeleteErrors is { Count: > 0 } errors)
        {
            var first = errors[0];
            var kind = first.Code is "AccessDenied" ? UfsErrorKind.PermissionDenied : UfsErrorKind.Unavailable;
            throw new UfsException(kind, $"DeleteObjects {Location(first.Key)}: {errors.Count} of {keys.Count} keys not deleted, first: {first.Code} ({first.Message})");
        }
    }
}
