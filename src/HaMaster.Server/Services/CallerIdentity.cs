using HaMaster.Grpc;
using HaMaster.Protos.V1;

namespace HaMaster.Server.Services;

/// <summary>
/// The caller's user and groups, as the Alluxio master's SIMPLE authentication: taken from the
/// request headers <c>hamaster-user</c> and <c>hamaster-groups</c> (comma-separated; the first
/// is the primary group). Fixed into the journal entry when a write is proposed.
/// </summary>
internal static class CallerIdentity
{
    public const string UserHeader = "hamaster-user";
    public const string GroupsHeader = "hamaster-groups";
    public const string DefaultUser = "anonymous";

    public static Caller From(ServerCallContext context)
    {
        var user = context.RequestHeaders.Get(UserHeader);
        var groups = context.RequestHeaders.Get(GroupsHeader);
        return Create(user, groups?.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries));
    }

    public static Caller Create(string? user, IEnumerable<string>? groups)
    {
        var caller = new Caller { User = string.IsNullOrWhiteSpace(user) ? DefaultUser : user.Trim() };
        if (groups is not null) caller.Groups.AddRange(groups);
        if (caller.Groups.Count == 0) caller.Groups.Add(caller.User);
        return caller;
    }
}
