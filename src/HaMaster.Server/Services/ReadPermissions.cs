using Grpc.Core;
using HaMaster.Metadata;
using HaMaster.Protos.V1;

namespace HaMaster.Server.Services;

/// <summary>
/// POSIX-style checks of reads when permissions are enforced (writes are checked by the state
/// machine, inside the journal entry): every ancestor directory needs execute (search), and a
/// listed directory or a file whose blocks are read needs read. The superuser and members of the
/// supergroup pass. Reads are served locally, so the check runs on the answering master against
/// the state it is about to read.
/// </summary>
internal sealed class ReadPermissions(MetadataStateMachine machine, string superUser, string superGroup)
{
    private const uint Read = 4;
    private const uint Execute = 1;

    /// <summary>What the read needs on its target besides search rights on the ancestors.</summary>
    public enum Target { None, Read }

    public void Check(Caller caller, string path, Target target)
    {
        if (caller.User == superUser || caller.Groups.Contains(superGroup)) return;
        if (path != "/")
        {
            // Search rights on "/", then on every ancestor below it ("/a", "/a/b" for "/a/b/c").
            Require(caller, path, "/", Execute, "execute");
            for (var next = path.IndexOf('/', 1); next > 0; next = path.IndexOf('/', next + 1))
            {
                Require(caller, path, path[..next], Execute, "execute");
            }
        }

        if (target == Target.Read) Require(caller, path, path, Read, "read");
    }

    private void Require(Caller caller, string path, string on, uint right, string name)
    {
        var status = machine.GetStatus(on);
        if (!status.IsOk) return; // missing: the read itself reports NOT_FOUND with its own message
        var info = status.Value!;
        var shift = info.Owner == caller.User ? 6 : caller.Groups.Contains(info.Group) ? 3 : 0;
        if (((info.Mode >> shift) & right) == right) return;
        throw ServerErrors.Status(StatusCode.PermissionDenied, $"{path}: permission denied: user {caller.User} lacks {name} on {on}");
    }
}
