using System.Collections.Concurrent;
using System.Diagnostics;
using System.Diagnostics.Metrics;
using Microsoft.Extensions.Logging;

namespace HaMaster.Server.Observability;

/// <summary>
/// Records calls the master refused because of overload: every one is counted in
/// <c>hamaster_rejected_calls_total{reason}</c>, but at most one log line per reason is written
/// per <see cref="Interval"/>, carrying how many more were suppressed since the last line. A
/// flood of refusals therefore costs a counter increment, not a line each. Thread-safe.
/// </summary>
internal sealed class RejectionLog
{
    public static readonly TimeSpan Interval = TimeSpan.FromSeconds(10);

    private readonly ILogger _logger;
    private readonly Counter<long> _rejected;
    private readonly ConcurrentDictionary<string, Window> _windows = new(StringComparer.Ordinal);

    private sealed class Window
    {
        public long LastLine = long.MinValue;
        public long Suppressed;
    }

    public RejectionLog(Meter meter, ILogger logger)
    {
        _logger = logger;
        _rejected = meter.CreateCounter<long>("hamaster_rejected_calls", description: "Client calls refused by admission control, by reason.");
    }

    /// <summary>Counts one refusal; logs it unless a line for <paramref name="reason"/> was written within <see cref="Interval"/>.</summary>
    public void Rejected(string reason, string detail)
    {
        _rejected.Add(1, new KeyValuePair<string, object?>("reason", reason));
        var window = _windows.GetOrAdd(reason, _ => new Window());
        var now = Stopwatch.GetTimestamp();
        long suppressed;
        lock (window)
        {
            if (window.LastLine != long.MinValue && Stopwatch.GetElapsedTime(window.LastLine, now) < Interval)
            {
                window.Suppressed++;
                return;
            }

            suppressed = window.Suppressed;
            window.Suppressed = 0;
            window.LastLine = now;
        }

        LogMessages.CallRefused(_logger, reason, detail, suppressed, (long)Interval.TotalSeconds);
    }
}
