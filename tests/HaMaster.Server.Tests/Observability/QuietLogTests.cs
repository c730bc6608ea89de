using System.Diagnostics.Metrics;
using HaMaster.Server.Observability;
using Microsoft.Extensions.Logging;

namespace HaMaster.Server.Tests.Observability;

/// <summary>
/// A flood must not flood the log (issue 17: 103,350 warning lines in 5 s): refusals are
/// counted every time but logged at most once per reason per 10 s, and the ports' framework
/// loggers write at most one line per category and event per 10 s.
/// </summary>
public sealed class QuietLogTests
{
    [Fact]
    public void A_thousand_refusals_are_all_counted_and_logged_once_per_reason()
    {
        using var meter = new Meter("HaMaster.Tests.Quiet." + Guid.NewGuid().ToString("N"));
        var counted = new Dictionary<string, long>();
        using var listener = new MeterListener();
        listener.InstrumentPublished = (instrument, l) =>
        {
            if (instrument.Meter == meter) l.EnableMeasurementEvents(instrument);
        };
        listener.SetMeasurementEventCallback<long>((_, value, tags, _) =>
        {
            foreach (var tag in tags)
            {
                if (tag.Key == "reason") counted[(string)tag.Value!] = counted.GetValueOrDefault((string)tag.Value!) + value;
            }
        });
        listener.Start();
        var lines = new LineCollector();
        using var factory = LoggerFactory.Create(b => b.AddProvider(lines));
        var log = new RejectionLog(meter, factory.CreateLogger("HaMaster.Admission"));

        for (var i = 0; i < 1000; i++) log.Rejected("calls_in_progress", "the master is serving its limit");
        log.Rejected("buffered_bytes", "the master holds too many bytes");

        Assert.Equal(1000, counted["calls_in_progress"]);
        Assert.Equal(1, counted["buffered_bytes"]);
        Assert.Equal(2, lines.Lines.Count);
        Assert.Contains("calls_in_progress", lines.Lines[0], StringComparison.Ordinal);
        Assert.Contains("buffered_bytes", lines.Lines[1], StringComparison.Ordinal);
    }

    [Fact]
    public void Framework_warnings_are_throttled_per_category_and_event()
    {
        var lines = new LineCollector();
        using var inner = LoggerFactory.Create(b => b.AddProvider(lines));
        var throttled = new ThrottledLoggerFactory(inner);
        var kestrel = throttled.CreateLogger("Microsoft.AspNetCore.Server.Kestrel.Http2");
        var grpc = throttled.CreateLogger("Grpc.AspNetCore.Server.ServerCallHandler");

        for (var i = 0; i < 5000; i++)
        {
            kestrel.Log(LogLevel.Warning, new EventId(60), "stream {Id} reset", i);
            grpc.Log(LogLevel.Error, new EventId(6), "error reading message {Id}", i);
        }

        kestrel.Log(LogLevel.Warning, new EventId(61), "another kind of line");

        Assert.Equal(3, lines.Lines.Count);
        Assert.Equal("stream 0 reset", lines.Lines[0]);
        Assert.Equal("error reading message 0", lines.Lines[1]);
        Assert.Equal("another kind of line", lines.Lines[2]);
    }

    private sealed class LineCollector : ILoggerProvider
    {
        public List<string> Lines { get; } = [];

        public ILogger CreateLogger(string categoryName) => new Collector(this);

        public void Dispose()
        {
        }

        private sealed class Collector(LineCollector owner) : ILogger
        {
            public IDisposable? BeginScope<TState>(TState state)
                where TState : notnull => null;

            public bool IsEnabled(LogLevel logLevel) => true;

            public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
            {
                lock (owner.Lines)
                {
                    owner.Lines.Add(formatter(state, exception));
                }
            }
        }
    }
}
