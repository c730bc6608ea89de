using Grpc.Core;
using HaMaster.Protos.V1;

namespace HaMaster.Server.Services;

/// <summary>
/// The caller's user and groups. With <c>--auth simple</c> (the default, INSECURE) as the Alluxio
/// master's SIMPLE authentication: taken from the request headers <c>hamaster-user</c> and
/// <c>hamaster-groups</c> (comma-separated; the first is the primary group) by
/// <see cref="CallerIdentityInterceptor"/>. With <c>--auth tls</c> / <c>jwt</c> from the verified
/// certificate or token by <see cref="AuthenticatedCallerInterceptor"/>. Fixed into the journal
/// entry when a write is proposed.
/// </summary>
internal static class CallerIdentity
{
    public const string UserHeader = "hamaster-user";
    public const string GroupsHeader = "hamaster-groups";
    public const string DefaultUser = "anonymous";

    /// <summary>Key of the parsed <see cref="Caller"/> in <see cref="ServerCallContext.UserState"/>.</summary>
    public static readonly object StateKey = new();

    /// <summary>Key set (to true) in <see cref="ServerCallContext.UserState"/> when the caller was authenticated (tls/jwt), not taken from headers.</summary>
    public static readonly object AuthenticatedKey = new();

    /// <summary>True when the call's identity was verified (<see cref="AuthenticatedCallerInterceptor"/>).</summary>
    public static bool IsAuthenticated(ServerCallContext context) => context.UserState.ContainsKey(AuthenticatedKey);

    /// <summary>The caller of this call (parsed by the interceptor, or from the headers when it did not run).</summary>
    public static Caller From(ServerCallContext context) =>
        context.UserState.TryGetValue(StateKey, out var caller) && caller is Caller known ? known : Parse(context.RequestHeaders);

    public static Caller Parse(Grpc.Core.Metadata headers)
    {
        var user = headers.GetValue(UserHeader);
        var groups = headers.GetValue(GroupsHeader);
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
