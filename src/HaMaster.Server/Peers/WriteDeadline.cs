using Grpc.Core;

namespace HaMaster.Server.Peers;

/// <summary>
/// Bounds each write of one stream's single writer: a write that has not finished within the
/// limit is cancelled (a stalled peer). One <see cref="CancellationTokenSource"/> serves every write
/// and is reset after each that finished in time, so the hot path allocates no linked source or
/// timer per message. Used by <see cref="PeerStream"/> and <see cref="ForwardStreams"/>; not thread-safe.
/// </summary>
internal sealed class WriteDeadline(TimeSpan limit) : IDisposable
{
    private CancellationTokenSource _timeout = new();

    public async Task WriteAsync<T>(IAsyncStreamWriter<T> writer, T message)
    {
        _timeout.CancelAfter(limit);
        try
        {
            await writer.WriteAsync(message, _timeout.Token).ConfigureAwait(false);
        }
        finally
        {
            if (!_timeout.TryReset())
            {
                _timeout.Dispose();
                _timeout = new CancellationTokenSource();
            }
        }
    }

    public void Dispose() => _timeout.Dispose();
}
