using System.Buffers.Text;
using System.Text;
using Amazon.S3.Model;

namespace HaMaster.Ufs.S3;

/// <summary>
/// Turns ListObjectsV2 pages (delimiter "/") of one directory into pages of
/// <see cref="UfsStatus"/> in UTF-8 name order. Pure: no I/O, so its ordering rules are unit tested.
/// </summary>
/// <remarks>
/// S3 orders keys, and a directory's key is <c>name/</c>: a directory "a" comes after every
/// entry named "a" + a character below '/' ("a-1", "a.txt"), although as a name it sorts before
/// them. Entries are buffered sorted by name and only released while no later S3 page can bring
/// a directory that sorts before them: an entry N is held back while some proper prefix D of N,
/// followed in N by a character below '/', has a key "D/" beyond the last key seen. Names at or
/// before the token's last returned name are dropped, which also removes common prefixes that a
/// server repeats on the next page. A name that is both an object and a prefix lists as the file,
/// as <see cref="S3UnderFileSystem.GetStatusAsync"/> reports it.
/// Not thread-safe: one per ListAsync call.
/// </remarks>
internal sealed class S3ListingAssembler(string directoryPrefix, string? after)
{
    private const string TokenVersion = "s3v1";

    private readonly SortedDictionary<string, (UfsStatus Status, int Page)> _buffer = new(UfsNameOrder.Instance);
    private readonly List<string?> _pageStartTokens = [];
    private string? _lastKeySeen;

    /// <summary>S3 pages added so far.</summary>
    public int Pages => _pageStartTokens.Count;

    public bool IsEmpty => _buffer.Count == 0;

    /// <summary>The directory's own marker object (<c>dir/</c>) was listed: the directory exists even when empty.</summary>
    public bool SawDirectoryItself { get; private set; }

    /// <summary>Adds one S3 page, fetched with <paramref name="startToken"/> (null: the first page).</summary>
    public void Add(string? startToken, IEnumerable<S3Object>? objects, IEnumerable<string>? commonPrefixes)
    {
        var page = _pageStartTokens.Count;
        _pageStartTokens.Add(startToken);
        foreach (var item in objects ?? [])
        {
            Seen(item.Key);
            if (item.Key == directoryPrefix)
            {
                SawDirectoryItself = true;
                continue;
            }

            var name = NameOf(item.Key, directory: false);
            if (name is not null)
            {
                _buffer[name] = (S3UnderFileSystem.FileStatus(name, item.Size, item.LastModified, item.ETag), page);
            }
        }

        foreach (var prefix in commonPrefixes ?? [])
        {
            Seen(prefix);
            var name = NameOf(prefix, directory: true);
            if (name is not null)
            {
                _buffer.TryAdd(name, (new UfsStatus(name, true, 0, 0, string.Empty), page));
            }
        }
    }

    /// <summary>How many entries, from the first in name order, no later page can precede.</summary>
    public int SafeCount(bool more)
    {
        if (!more)
        {
            return _buffer.Count;
        }

        var count = 0;
        foreach (var name in _buffer.Keys)
        {
            if (MayBePrecededLater(name))
            {
                break;
            }

            count++;
        }

        return count;
    }

    /// <summary>
    /// The page to return: up to <paramref name="maxEntries"/> released entries and the token to
    /// resume (null when the listing is complete). <paramref name="nextS3Token"/> is the SDK token
    /// after the last page added. If nothing could be released (a held-back run longer than the
    /// pages one call reads), the buffer is released anyway so every call makes progress.
    /// </summary>
    public UfsListing Take(int maxEntries, bool more, string? nextS3Token)
    {
        var safe = SafeCount(more);
        if (safe == 0)
        {
            safe = _buffer.Count;
        }

        var entries = new List<UfsStatus>(Math.Min(safe, maxEntries));
        var remainingPage = int.MaxValue;
        foreach (var (name, (status, page)) in _buffer)
        {
            if (entries.Count < Math.Min(safe, maxEntries))
            {
                entries.Add(status);
            }
            else
            {
                remainingPage = Math.Min(remainingPage, page);
            }
        }

        var last = entries.Count > 0 ? entries[^1].Name : after;
        string? token;
        if (remainingPage != int.MaxValue)
        {
            token = EncodeToken(_pageStartTokens[remainingPage], last);
        }
        else
        {
            token = more ? EncodeToken(nextS3Token, last) : null;
        }

        return new UfsListing(entries, token);
    }

    /// <summary>"s3v1.{base64url(last name)}.{SDK token or empty}"; the SDK token is last because it may contain anything.</summary>
    internal static string EncodeToken(string? s3Token, string? lastName) =>
        $"{TokenVersion}.{(lastName is null ? "-" : Base64Url.EncodeToString(Encoding.UTF8.GetBytes(lastName)))}.{s3Token}";

    internal static bool TryDecodeToken(string token, out string? s3Token, out string? lastName)
    {
        s3Token = null;
        lastName = null;
        var parts = token.Split('.', 3);
        if (parts.Length != 3 || parts[0] != TokenVersion)
        {
            return false;
        }

        if (parts[1] != "-")
        {
            try
            {
                lastName = Encoding.UTF8.GetString(Base64Url.DecodeFromChars(parts[1]));
            }
            catch (FormatException)
            {
                return false;
            }
        }

        s3Token = parts[2].Length == 0 ? null : parts[2];
        return true;
    }

    private void Seen(string key)
    {
        if (_lastKeySeen is null || UfsNameOrder.Instance.Compare(key, _lastKeySeen) > 0)
        {
            _lastKeySeen = key;
        }
    }

    /// <summary>The child name of <paramref name="key"/>, or null when it is not one we list (outside the directory, empty, dropped by the token).</summary>
    private string? NameOf(string key, bool directory)
    {
        if (!key.StartsWith(directoryPrefix, StringComparison.Ordinal))
        {
            return null;
        }

        var name = directory ? key[directoryPrefix.Length..].TrimEnd('/') : key[directoryPrefix.Length..];
        if (name.Length == 0 || name.Contains('/', StringComparison.Ordinal) || name is "." or "..")
        {
            return null;
        }

        return after is not null && UfsNameOrder.Instance.Compare(name, after) <= 0 ? null : name;
    }

    private bool MayBePrecededLater(string name)
    {
        for (var i = 1; i < name.Length; i++)
        {
            if (name[i] < '/' && UfsNameOrder.Instance.Compare(string.Concat(directoryPrefix, name.AsSpan(0, i), "/"), _lastKeySeen) > 0)
            {
                return true;
            }
        }

        return false;
    }
}
