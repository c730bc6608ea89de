using Google.Protobuf;
using HaMaster.Chaos.Core.Models;
using HaMaster.Client;
using Grpc.Core;
using HaMaster.Protos.V1;

namespace HaMaster.Chaos.Workload;

/// <summary>Runs one model operation against the cluster and reports what became of it. Never throws for server or transport failures.</summary>
public interface IFsExecutor
{
    /// <summary>Who this is in the history and the summary ("lib-2", "raw-0").</summary>
    string Name { get; }

    ValueTask<CallResult> RunAsync(FsInput input, CancellationToken cancellationToken);
}

/// <summary>
/// Through the client library: leader discovery, redirects, Polly retries and an exactly-once
/// session, so a write retried across a failover is applied once. A call that ends in a
/// transient status after the retry budget is "unknown" (some attempt may have been applied).
/// </summary>
public sealed class LibraryExecutor(string name, HaMasterClient client) : IFsExecutor
{
    public string Name { get; } = name;

    public async ValueTask<CallResult> RunAsync(FsInput input, CancellationToken cancellationToken)
    {
        try
        {
            switch (input.Kind)
            {
                case FsOpKind.CreateFile:
                    await client.CreateFileAsync(input.Path, mode: (uint)input.Mode, cancellationToken: cancellationToken);
                    return CallResult.Answered(FsOutput.Ok);
                case FsOpKind.Mkdir:
                    await client.CreateDirectoryAsync(input.Path, mode: (uint)input.Mode, cancellationToken: cancellationToken);
                    return CallResult.Answered(FsOutput.Ok);
                case FsOpKind.Delete:
                    await client.DeleteAsync(input.Path, cancellationToken: cancellationToken);
                    return CallResult.Answered(FsOutput.Ok);
                case FsOpKind.Rename:
                    await client.RenameAsync(input.Path, input.Destination!, cancellationToken);
                    return CallResult.Answered(FsOutput.Ok);
                case FsOpKind.SetMode:
                    await client.SetAttributeAsync(new SetAttributeRequest { Path = input.Path, Mode = (uint)input.Mode }, cancellationToken);
                    return CallResult.Answered(FsOutput.Ok);
                case FsOpKind.GetStatus:
                    return CallResult.Answered(FsAnswers.FromInfo(await client.GetStatusAsync(input.Path, cancellationToken: cancellationToken)));
                case FsOpKind.List:
                    var page = await client.ListStatusAsync(input.Path, cancellationToken: cancellationToken);
                    return page.NextPageToken.Length == 0
                        ? CallResult.Answered(FsAnswers.FromListing(input.Path, page))
                        : new CallResult(Core.History.OpOutcome.Failed, null, "listing spans several pages");
                default:
                    throw new ArgumentOutOfRangeException(nameof(input), input.Kind, "unknown operation");
            }
        }
        catch (HaMasterException e)
        {
            return FsAnswers.FromStatus(input, e.Status, e.Detail);
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            return FsAnswers.FromException(input, e);
        }
    }
}

/// <summary>
/// Raw gRPC on the shared channel of one master: one attempt, no session, no redirect (a follower
/// forwards writes to the leader over the peer port). <paramref name="pickMaster"/> chooses the
/// master for each call, so the load moves around as masters die. <paramref name="reads"/> is the
/// consistency of its reads: linearizable, or stale only as the harness's negative control.
/// </summary>
public sealed class RawExecutor(string name, Func<MasterChannel> pickMaster, TimeSpan callTimeout, Consistency reads = Consistency.Linearizable) : IFsExecutor
{
    public string Name { get; } = name;

    public async ValueTask<CallResult> RunAsync(FsInput input, CancellationToken cancellationToken)
    {
        var channel = pickMaster();
        var call = new CallOptions(deadline: DateTime.UtcNow + callTimeout, cancellationToken: cancellationToken);
        try
        {
            switch (input.Kind)
            {
                case FsOpKind.CreateFile:
                    await channel.FileSystem.CreateFileAsync(new CreateFileRequest { Path = input.Path, Mode = (uint)input.Mode }, call);
                    return CallResult.Answered(FsOutput.Ok);
                case FsOpKind.Mkdir:
                    await channel.FileSystem.CreateDirectoryAsync(new CreateDirectoryRequest { Path = input.Path, Mode = (uint)input.Mode }, call);
                    return CallResult.Answered(FsOutput.Ok);
                case FsOpKind.Delete:
                    await channel.FileSystem.DeleteAsync(new DeleteRequest { Path = input.Path }, call);
                    return CallResult.Answered(FsOutput.Ok);
                case FsOpKind.Rename:
                    await channel.FileSystem.RenameAsync(new RenameRequest { SrcPath = input.Path, DstPath = input.Destination! }, call);
                    return CallResult.Answered(FsOutput.Ok);
                case FsOpKind.SetMode:
                    await channel.FileSystem.SetAttributeAsync(new SetAttributeRequest { Path = input.Path, Mode = (uint)input.Mode }, call);
                    return CallResult.Answered(FsOutput.Ok);
                case FsOpKind.GetStatus:
                    var status = await channel.FileSystem.GetStatusAsync(new GetStatusRequest { Path = input.Path, Consistency = reads }, call);
                    return CallResult.Answered(FsAnswers.FromInfo(status.Info));
                case FsOpKind.List:
                    var page = await channel.FileSystem.ListStatusAsync(new ListStatusRequest { Path = input.Path, Consistency = reads }, call);
                    return page.NextPageToken.Length == 0
                        ? CallResult.Answered(FsAnswers.FromListing(input.Path, page))
                        : new CallResult(Core.History.OpOutcome.Failed, null, "listing spans several pages");
                default:
                    throw new ArgumentOutOfRangeException(nameof(input), input.Kind, "unknown operation");
            }
        }
        catch (RpcException e) when (FsAnswers.NeverSent(e))
        {
            return new CallResult(Core.History.OpOutcome.Failed, null, $"connection refused by {channel.Channel.Target}");
        }
        catch (RpcException e)
        {
            return FsAnswers.FromStatus(input, e.StatusCode, e.Status.Detail);
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            return FsAnswers.FromException(input, e);
        }
    }
}
