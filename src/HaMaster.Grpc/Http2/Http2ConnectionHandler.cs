using Microsoft.AspNetCore.Connections;
using Microsoft.Extensions.Logging;

namespace HaMaster.Grpc.Http2;

/// <summary>
/// Runs HaMaster's own HTTP/2 protocol on connections accepted by Kestrel's socket transport
/// (and its TLS middleware, when configured): Kestrel accepts, we speak HTTP/2.
/// </summary>
internal sealed class Http2ConnectionHandler
{
    private readonly Http2Application _application;
    private readonly Http2ServerLimits _limits;
    private readonly ILogger _logger;

    public Http2ConnectionHandler(Http2Application application, Http2ServerLimits limits, ILogger logger)
    {
        _application = application;
        _limits = limits.Validate();
        _logger = logger;
    }

    public Task OnConnectedAsync(ConnectionContext connection) =>
        new Http2Connection(connection, _application, _limits, _logger).RunAsync();
}
