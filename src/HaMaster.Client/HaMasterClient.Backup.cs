using System.Diagnostics;
using System.Runtime.CompilerServices;
using Grpc.Core;
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
        catch (RpcException ex)
        {
            throw HaMasterException.Create(ex.StatusCode, ex.Status.Detail, state.LastMaster, ex);
        }

        var options = new CallOptions(BuildHeaders(method), DateTime.UtcNow + Options.AdminCallTimeout, cancellationToken);
        using var call = _roster.Channel(target).Admin.Backup(new BackupRequest(), options);
        while (true)
        {
            bool more;
            try
            {
                more = await call.ResponseStream.MoveNext(cancellationToken).ConfigureAwait(false);
            }
            catch (RpcException ex) when (!cancellationToken.IsCancellationRequested)
            {
                throw HaMasterException.Create(ex.StatusCode, ex.Status.Detail, target, ex);
            }

            if (!more)
            {
                yield break;
            }

            yield return call.ResponseStream.Current;
        }
    }
}
