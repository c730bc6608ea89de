using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace HaMaster.Server.Hosting;

/// <summary>
/// The loggers a port's ASP.NET Core host hands to Kestrel and grpc-dotnet: those of
/// <paramref name="inner"/>, except that ASP.NET Core's per-request category
/// (<see cref="RequestCategory"/>: "Request starting"/"Request finished" lines) gets a logger that
/// is never enabled. While that logger is enabled at any level, the hosting layer starts an
/// <see cref="System.Diagnostics.Activity"/> and a log scope for every call (about 1 KiB with
/// its ids), which a pooled HTTP/2 stream then keeps until its connection's next call: a master
/// with 10,000 client connections held one per connection. The master logs its own request
/// failures; the per-request lines were never wanted. Thread-safe when the inner factory is.
/// </summary>
internal sealed class PortLoggerFactory(ILoggerFactory inner) : ILoggerFactory
{
    /// <summary>ASP.NET Core hosting's per-request log category.</summary>
    public const string RequestCategory = "Microsoft.AspNetCore.Hosting.Diagnostics";

    public ILogger CreateLogger(string categoryName) =>
        string.Equals(categoryName, RequestCategory, StringComparison.Ordinal) ? NullLogger.Instance : inner.CreateLogger(categoryName);

    public void AddProvider(ILoggerProvider provider) => inner.AddProvider(provider);

    /// <summary>The inner factory is owned by the caller, not by this wrapper.</summary>
    public void Dispose()
    {
    }
}
