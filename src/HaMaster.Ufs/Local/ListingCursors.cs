namespace HaMaster.Ufs.Local;

/// <summary>
/// The sorted names of directories being listed page by page, kept between pages so that a
/// directory of N entries costs one enumeration and sort per listing instead of one per page
/// (a 100,000-entry directory in pages of 2,000 was 50 full passes). A cursor is found again by
/// the continuation token it produced; a token without a cursor (expired, evicted, another
/// master) falls back to a fresh enumeration, so cursors are only a cache.
/// </summary>
/// <remarks>Safe for concurrent use. Bounded: at most <see cref="Capacity"/> cursors, each
/// dropped after <see cref="Lifetime"/> or when its next page is taken.</remarks>
internal sealed class ListingCursors
{
    public const int Capacity = 16;
    public static readonly TimeSpan Lifetime = TimeSpan.FromSeconds(60);

    private readonly Lock _lock = new();
    private readonly Dictionary<(string Directory, string Token), Cursor> _cursors = [];

    private sealed record Cursor(string[] Names, int Next, long CreatedTicks);

    /// <summary>Takes the cursor a previous page left for <paramref name="token"/>, if still held.</summary>
    public bool TryTake(string directory, string token, out string[] names, out int next)
    {
        lock (_lock)
        {
            if (_cursors.Remove((directory, token), out var cursor) && !Expired(cursor, Environment.TickCount64))
            {
                names = cursor.Names;
                next = cursor.Next;
                return true;
            }
        }

        names = [];
        next = 0;
        return false;
    }

    /// <summary>Keeps <paramref name="names"/> for the page that starts at <paramref name="next"/>.</summary>
    public void Put(string directory, string token, string[] names, int next)
    {
        var now = Environment.TickCount64;
        lock (_lock)
        {
            if (_cursors.Count >= Capacity)
            {
                var oldest = default((string, string));
                var oldestTicks = long.MaxValue;
                foreach (var (key, cursor) in _cursors)
                {
                    if (cursor.CreatedTicks < oldestTicks)
                    {
                        (oldest, oldestTicks) = (key, cursor.CreatedTicks);
                    }
                }

                _cursors.Remove(oldest);
            }

            _cursors[(directory, token)] = new Cursor(names, next, now);
        }
    }

    private static bool Expired(Cursor cursor, long now) => now - cursor.CreatedTicks > (long)Lifetime.TotalMilliseconds;
}
