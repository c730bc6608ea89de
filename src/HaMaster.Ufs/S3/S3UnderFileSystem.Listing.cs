using Amazon.S3.Model;

namespace HaMaster.Ufs.S3;

internal sealed partial class S3UnderFileSystem
{
    /// <summary>
    /// S3 pages one call may read while it holds back entries that a later page could still
    /// precede (see <see cref="S3ListingAssembler"/>); past it order gives way to progress.
    /// </summary>
    private const int MaxPagesPerCall = 100;

    /// <summary>
    /// ListObjectsV2 with delimiter "/": objects are files, common prefixes directories (a marker
    /// <c>dir/</c> rolls up into its prefix, the directory's own marker is skipped). Our token
    /// carries the SDK's continuation token of the S3 page to resume from and the last name
    /// returned, so names come in UTF-8 order across pages even where S3's key order differs
    /// from name order ("a.txt" &lt; "a/" as keys, but directory "a" &lt; "a.txt" as names).
    /// </summary>
    public async ValueTask<UfsListing> ListAsync(string path, string? continuationToken, int maxEntries, CancellationToken cancellationToken)
    {
        if (maxEntries < 1)
        {
            throw new UfsException(UfsErrorKind.InvalidArgument, $"list {Root}: maxEntries must be at least 1, not {maxEntries}");
        }

        var directoryPrefix = DirectoryPrefix(path);
        string? s3Token = null;
        string? after = null;
        if (continuationToken is not null && !S3ListingAssembler.TryDecodeToken(continuationToken, out s3Token, out after))
        {
            throw new UfsException(UfsErrorKind.InvalidArgument, $"list {Location(directoryPrefix)}: '{continuationToken}' is not a continuation token of this store");
        }

        var assembler = new S3ListingAssembler(directoryPrefix, after);
        var requestToken = s3Token;
        var more = false;
        while (true)
        {
            var request = new ListObjectsV2Request
            {
                BucketName = _bucket,
                Prefix = directoryPrefix,
                Delimiter = "/",
                ContinuationToken = requestToken,
                MaxKeys = Math.Min(maxEntries, BatchSize),
            };
            var response = await CallAsync("ListObjectsV2", directoryPrefix, t => _s3.ListObjectsV2Async(request, t), cancellationToken);
            assembler.Add(requestToken, response.S3Objects, response.CommonPrefixes);
            more = response.IsTruncated == true && !string.IsNullOrEmpty(response.NextContinuationToken);
            if (continuationToken is null && assembler.Pages == 1 && !more && path.Length > 0 && assembler.IsEmpty && !assembler.SawDirectoryItself)
            {
                throw new UfsException(UfsErrorKind.NotFound, $"list {Location(directoryPrefix)}: no such directory");
            }

            requestToken = more ? response.NextContinuationToken : null;
            if (!more || assembler.SafeCount(more) >= maxEntries || assembler.Pages >= MaxPagesPerCall)
            {
                break;
            }
        }

        return assembler.Take(maxEntries, more, requestToken);
    }

    /// <summary>True when some key starts with <paramref name="prefix"/> (one ListObjectsV2 of one key).</summary>
    private async ValueTask<bool> HasKeysUnderAsync(string prefix, CancellationToken cancellationToken)
    {
        var request = new ListObjectsV2Request { BucketName = _bucket, Prefix = prefix, MaxKeys = 1 };
        var response = await CallAsync("ListObjectsV2", prefix, t => _s3.ListObjectsV2Async(request, t), cancellationToken);
        return response.KeyCount > 0 || response.S3Objects is { Count: > 0 };
    }

    /// <summary>One page of all keys under <paramref name="prefix"/> (no delimiter: the whole subtree).</summary>
    private async ValueTask<(IReadOnlyList<string> Keys, string? NextToken)> ListKeysAsync(string prefix, string? token, int maxKeys, CancellationToken cancellationToken)
    {
        var request = new ListObjectsV2Request { BucketName = _bucket, Prefix = prefix, ContinuationToken = token, MaxKeys = maxKeys };
        var response = await CallAsync("ListObjectsV2", prefix, t => _s3.ListObjectsV2Async(request, t), cancellationToken);
        var keys = response.S3Objects?.Select(o => o.Key).ToList() ?? [];
        var next = response.IsTruncated == true && !string.IsNullOrEmpty(response.NextContinuationToken) ? response.NextContinuationToken : null;
        return (keys, next);
    }
}
