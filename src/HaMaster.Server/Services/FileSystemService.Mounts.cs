using Grpc.Core;
using HaMaster.Metadata;
using HaMaster.Protos.V1;

namespace HaMaster.Server.Services;

/// <summary>
/// Mount table calls (issue 18). The store is checked here, by the leader before proposing, never
/// at apply time; loading metadata from a store is <see cref="MetadataLoader"/>'s.
/// </summary>
internal sealed partial class FileSystemService
{
    /// <summary>The leader-only calls masters forward to each other (never served to clients).</summary>
    internal const string InternalService = "hamaster.internal.Metadata";

    private readonly MountedStores _stores;
    private readonly ForwardedCalls.LeaderCall<MountRequest, MountResponse> _mount;
    private readonly ForwardedCalls.LeaderCall<UnmountRequest, UnmountResponse> _unmount;
    private readonly ForwardedCalls.LeaderCall<UpdateMountRequest, UpdateMountResponse> _updateMount;

    private (ForwardedCalls.LeaderCall<MountRequest, MountResponse>, ForwardedCalls.LeaderCall<UnmountRequest, UnmountResponse>,
        ForwardedCalls.LeaderCall<UpdateMountRequest, UpdateMountResponse>) RegisterMountCalls(ForwardedCalls leaderCalls)
    {
        var mount = leaderCalls.Register(ServiceName, "Mount", MountRequest.Parser, MountResponse.Parser, async (r, caller, ct) =>
        {
            JournalProposer.CheckPath(r.Path);
            if (r.Path == "/") throw ServerErrors.Status(StatusCode.AlreadyExists, "/: the root directory exists and cannot be a mount point");
            RequestChecks.Refuse(InputLimits.CheckUfsUri(r.UfsUri));
            var options = r.Options ?? new MountOptions();
            RequestChecks.Refuse(InputLimits.CheckMountProperties(options.Properties));
            RequestChecks.CheckSession(r.Session);
            if (_machine.Mounts.Mounts.Count >= InputLimits.MaxMounts) throw ServerErrors.Status(StatusCode.FailedPrecondition, $"the mount table is full ({InputLimits.MaxMounts} mounts)");
            var canonical = await _stores.CheckAsync(r.UfsUri, options.Properties, ct).ConfigureAwait(false);
            var proposed = r.Clone();
            proposed.UfsUri = canonical;
            var result = await _proposer.ProposeAsync(caller, r.Session, e => e.Mount = proposed, ct).ConfigureAwait(false);
            return new MountResponse { Mount = result.Mount };
        });
        var unmount = leaderCalls.Register(ServiceName, "Unmount", UnmountRequest.Parser, UnmountResponse.Parser, async (r, caller, ct) =>
        {
            JournalProposer.CheckPath(r.Path);
            if (r.Path == "/") throw ServerErrors.Status(StatusCode.InvalidArgument, "/: the root cannot be unmounted");
            RequestChecks.CheckSession(r.Session);
            var result = await _proposer.ProposeAsync(caller, r.Session, e => e.Unmount = r, ct).ConfigureAwait(false);
            return new UnmountResponse { DeletedCount = result.DeletedCount };
        });
        var update = leaderCalls.Register(ServiceName, "UpdateMount", UpdateMountRequest.Parser, UpdateMountResponse.Parser, async (r, caller, ct) =>
        {
            JournalProposer.CheckPath(r.Path);
            var options = r.Options ?? new MountOptions();
            RequestChecks.Refuse(InputLimits.CheckMountProperties(options.Properties));
            RequestChecks.CheckSession(r.Session);
            var existing = _machine.Mounts.At(r.Path) ?? throw ServerErrors.Status(StatusCode.NotFound, $"{r.Path}: is not a mount point");
            await _stores.CheckAsync(existing.UfsUri, options.Properties, ct).ConfigureAwait(false);
            var result = await _proposer.ProposeAsync(caller, r.Session, e => e.UpdateMount = r, ct).ConfigureAwait(false);
            return new UpdateMountResponse { Mount = result.Mount };
        });
        return (mount, unmount, update);
    }

    public override Task<MountResponse> Mount(MountRequest request, ServerCallContext context) => _mount.InvokeAsync(request, context);

    public override Task<UnmountResponse> Unmount(UnmountRequest request, ServerCallContext context) => _unmount.InvokeAsync(request, context);

    public override Task<UpdateMountResponse> UpdateMount(UpdateMountRequest request, ServerCallContext context) => _updateMount.InvokeAsync(request, context);

    public override async Task<GetMountTableResponse> GetMountTable(GetMountTableRequest request, ServerCallContext context)
    {
        using var timeout = CallDeadline.Link(context, _defaultTimeout);
        await _proposer.ReadBarrierAsync(request.Consistency, timeout.Token).ConfigureAwait(false);
        var response = new GetMountTableResponse();
        foreach (var mount in _machine.Mounts.Mounts) response.Mounts.Add(MountTable.ToInfo(mount));
        return response;
    }
}
