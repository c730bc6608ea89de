using System.Diagnostics;

namespace HaMaster.Ops.Tests.Infrastructure;

/// <summary>
/// Bounded polling for remote conditions that have no event to await. Every call has a deadline
/// and fails with the last observation plus the caller's diagnostics.
/// </summary>
internal static class Poll
{
    private static readonly TimeSpan Interval = TimeSpan.FromMilliseconds(50);

    /// <summary>Polls until <paramref name="probe"/> returns non-null; exceptions count as "not yet".</summary>
    public static async Task<T> UntilAsync<T>(string what, Func<Task<T?>> probe, TimeSpan timeout, Func<string>? diagnostics = null)
        where T : class
    {
        var clock = Stopwatch.StartNew();
        var last = "no probe finished";
        for (var attempt = 0; attempt < 100_000; attempt++)
        {
            try
            {
                if (await probe() is { } value)
                {
                    return value;
                }

                last = "condition not met";
            }
            catch (Exception e) when (e is not OutOfMemoryException)
            {
                last = $"{e.GetType().Name}: {e.Message}";
            }

            if (clock.Elapsed > timeout)
            {
                break;
            }

            await Task.Delay(Interval);
        }

        throw new TimeoutException($"timed out after {timeout.TotalSeconds:0.#} s waiting for {what}; last observation: {last}{(diagnostics is null ? "" : Environment.NewLine + diagnostics())}");
    }
}
