using System.Diagnostics;

namespace HaMaster.Chaos.Core.Processes;

/// <summary>
/// Bounded polling for conditions that have no event to await (a remote master's state). Every
/// call has a deadline; on timeout it throws with what was last observed and the caller's
/// diagnostics (typically the masters' recent output).
/// </summary>
public static class Eventually
{
    public static readonly TimeSpan DefaultTimeout = TimeSpan.FromSeconds(30);
    private static readonly TimeSpan Interval = TimeSpan.FromMilliseconds(50);

    /// <summary>Polls <paramref name="probe"/> until it returns a non-null value; exceptions count as "not yet".</summary>
    public static async Task<T> ValueAsync<T>(string what, Func<Task<T?>> probe, TimeSpan? timeout = null, Func<string>? diagnostics = null)
        where T : class
    {
        ArgumentNullException.ThrowIfNull(probe);
        var limit = timeout ?? DefaultTimeout;
        var clock = Stopwatch.StartNew();
        var last = "no probe finished";
        for (var attempt = 0; attempt < 100_000; attempt++)
        {
            try
            {
                if (await probe().ConfigureAwait(false) is { } value)
                {
                    return value;
                }

                last = "condition not met";
            }
            catch (Exception e) when (e is not OutOfMemoryException)
            {
                last = $"{e.GetType().Name}: {e.Message}";
            }

            if (clock.Elapsed > limit)
            {
                break;
            }

            await Task.Delay(Interval).ConfigureAwait(false);
        }

        throw new TimeoutException($"timed out after {limit.TotalSeconds:0.#} s waiting for {what}; last observation: {last}{(diagnostics is null ? "" : Environment.NewLine + diagnostics())}");
    }

    /// <summary>Polls until <paramref name="condition"/> is true.</summary>
    public static Task TrueAsync(string what, Func<Task<bool>> condition, TimeSpan? timeout = null, Func<string>? diagnostics = null)
    {
        ArgumentNullException.ThrowIfNull(condition);
        return ValueAsync(what, async () => await condition().ConfigureAwait(false) ? string.Empty : null, timeout, diagnostics);
    }
}
