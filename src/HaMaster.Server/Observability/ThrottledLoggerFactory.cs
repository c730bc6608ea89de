using System.Collections.Concurrent;
using System.Diagnostics;
using Microsoft.Extensions.Logging;

namespace HaMaster.Server.Observability;

/// <summary>
/// Hands Kestrel and grpc-dotnet loggers that write at most one line per (category, event id)
/// per <see cref="Interval"/>; the next line written carries how many were suppressed in
/// between. A flood of malformed streams or resets otherwise writes one warning per stream
/// (103,350 lines in 5 s were measured on the old server). Our own loggers are not affected:
/// only the ports' frameworks log through this factory. Thread-safe.
/// </summary>
internal sealed class ThrottledLoggerFactory(ILoggerFactory inner) : ILoggerFactory
{
    public static readonly TimeSpan Interval = TimeSpan.FromSeconds(10);

    private readonly ConcurrentDictionary<(string Category, int EventId), Window> _windows = new();

    private sealed class Window
    {
        public long LastLine = long.MinValue;
        public long Suppressed;
    }

    public ILogger CreateLogger(string categoryName) => new ThrottledLogger(this, categoryName, inner.CreateLogger(categoryName));

    public void AddProvider(ILoggerProvider provider) => inner.AddProvider(provider);

    /// <summary>The inner factory is owned by the caller (the process), not by this wrapper.</summary>
    public void Dispose()
    {
    }

    /// <summary>Whether to write this line now; <paramref name="suppressed"/> = lines dropped since the last one written.</summary>
    private bool Admit(string category, int eventId, out long suppressed)
    {
        var window = _windows.GetOrAdd((category, eventId), _ => new Window());
        var now = Stopwatch.GetTimestamp();
        lock (window)
        {
            if (window.LastLine != long.MinValue && Stopwatch.GetElapsedTime(window.LastLine, now) < Interval)
            {
                window.Suppressed++;
                suppressed = 0;
                return false;
            }

            suppressed = window.Suppressed;
            window.Suppressed = 0;
            window.LastLine = now;
            return true;
        }
    }

    private sealed class ThrottledLogger(ThrottledLoggerFactory owner, string category, ILogger inner) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state)
            where TState : notnull => inner.BeginScope(state);

        public bool IsEnabled(LogLevel logLevel) => inner.IsEnabled(logLevel);

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            if (!inner.IsEnabled(logLevel) || !owner.Admit(category, eventId.Id, out var suppressed)) return;
            if (suppressed == 0)
            {
                inner.Log(logLevel, eventId, state, exception, formatter);
                return;
            }

            inner.Log(logLevel, eventId, state, exception, (s, e) =>
                $"{formatter(s, e)} ({suppressed} similar lines suppressed since the previous one; at most one per {(long)Interval.TotalSeconds} s)");
        }
    }
}
