using System.Diagnostics;
using System.Runtime.CompilerServices;
using HaMaster.Grpc;
using HaMaster.Protos.V1;

namespace HaMaster.Client;

// ClusterAdmin.Backup: a server-streaming call, so it bypasses the unary retry pipeline.
public sealed partial class HaMasterClient
{
    /// <summary>
    /// Streams a consistent backup from the leader (or the pinned master): the first chunk carries
    /// the snapshot manifest (JSON), then every file's bytes in manifest order. The master takes a
    /// snapshot first; writes continue meanwhile. One attempt: a failure mid-stream surfaces as
    /// <see cref="HaMasterException"/> and the caller starts over (a partial backup is useless).
    /// The whole stream is bounded by <see cref="HaMasterClientOptions.AdminCallTimeout"/>.
    /// </summary>
    public async IAsyncEnumerable<BackupChunk> StreamBackupAsync([EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        const string method = AdminService + "Backup";
        var state = new CallState(CallKind.Admin, Stopwatch.GetTimestamp() + ToTicks(Options.AdminCallTimeout));
        string target;
        try
        {
            target = await PickTargetAsync(state, cancellationToken).ConfigureAwait(false);
        }
        catch (GrpcException ex)
        {
            throw HaMasterException.Create(ex.Status, ex.Detail, state.LastMaster, ex);
        }

        var options = new CallOptions { Timeout = Options.AdminCallTimeout, Headers = BuildHeaders(method), CancellationToken = cancellationToken };
        using var call = _roster.Channel(target).ServerStreaming(method, new BackupRequest(), BackupChunk.Parser, options);
        var chunks = call.ResponseStream.GetAsyncEnumerator(cancellationToken);
        await using (chunks.ConfigureAwait(false))
        {
            while (true)
            {
                bool more;
                try
                {
                    more = await chunks.MoveNextAsync().ConfigureAwait(false);
                }
                catch (GrpcException ex) when (!cancellationToken.IsCancellationRequested)
                {
                    throw HaMasterException.Create(ex.Status, ex.Detail, target, ex);
                }
                catch (Exception ex) when (ex is HttpRequestException or IOException)
                {
                    throw HaMasterException.Create(StatusCode.Unavailable, $"backup stream from {target} failed: {ex.Message}", target, ex);
                }

                if (!more)
                {
                    yield break;
                }

                yield return chunks.Current;
            }
        }
    }
}
