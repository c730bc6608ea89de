using Grpc.Core;
using HaMaster.Metadata;
using HaMaster.Protos.V1;

namespace HaMaster.Server.Services;

/// <summary>
/// Checks a caller's claimed identity before it is used or journaled: the user and every group
/// follow <see cref="InputLimits.CheckPrincipalName"/>, and at most
/// <see cref="InputLimits.MaxCallerGroups"/> groups. Without it a 256 KiB user name would be
/// copied into every journal entry and every inode the caller creates.
/// </summary>
internal static class CallerNames
{
    /// <summary>Null when <paramref name="caller"/> is acceptable, otherwise the INVALID_ARGUMENT message.</summary>
    public static string? Check(Caller caller)
    {
        if (InputLimits.CheckPrincipalName(caller.User, $"caller user (header {CallerIdentity.UserHeader})") is { } user) return user;
        if (caller.Groups.Count > InputLimits.MaxCallerGroups)
        {
            return $"caller groups (header {CallerIdentity.GroupsHeader}): {caller.Groups.Count} groups, at most {InputLimits.MaxCallerGroups}";
        }

        foreach (var group in caller.Groups)
        {
            if (InputLimits.CheckPrincipalName(group, $"caller group (header {CallerIdentity.GroupsHeader})") is { } bad) return bad;
        }

        return null;
    }

    /// <summary>Checks the identity headers of a call as sent (before any trimming or splitting).</summary>
    public static string? CheckHeaders(Grpc.Core.Metadata headers)
    {
        var user = headers.GetValue(CallerIdentity.UserHeader);
        var groups = headers.GetValue(CallerIdentity.GroupsHeader);
        if (user is null && groups is null) return null;
        if (groups is not null && groups.Length > (InputLimits.MaxPrincipalNameBytes + 2) * InputLimits.MaxCallerGroups)
        {
            return $"caller groups (header {CallerIdentity.GroupsHeader}) is too long: at most {InputLimits.MaxCallerGroups} groups of {InputLimits.MaxPrincipalNameBytes} characters";
        }

        return Check(CallerIdentity.Parse(headers));
    }
}

/// <summary>
/// Refuses a call whose request headers the master would otherwise misread: identity headers
/// that break the name rules (<see cref="CallerNames"/>) and a <c>grpc-timeout</c> that is not
/// what the gRPC spec allows (1 to 8 digits and one unit of H, M, S, m, u, n; grpc-dotnet
/// would serve such a call as if it had no deadline). INVALID_ARGUMENT naming the header.
/// Stateless; runs before the caller identity is used.
/// </summary>
internal sealed class RequestHeaderCheckInterceptor : CallInterceptor
{
    public const string TimeoutHeader = "grpc-timeout";

    protected override Task<T> InterceptAsync<T>(ServerCallContext context, Func<Task<T>> continuation)
    {
        if (CallerNames.CheckHeaders(context.RequestHeaders) is { } identity)
        {
            throw new RpcException(new Status(StatusCode.InvalidArgument, identity));
        }

        var timeout = context.GetHttpContext().Request.Headers[TimeoutHeader];
        if (timeout.Count > 0 && (timeout.Count > 1 || !IsValidTimeout(timeout[0])))
        {
            throw new RpcException(new Status(StatusCode.InvalidArgument, $"header {TimeoutHeader} must be 1 to 8 digits and a unit (H, M, S, m, u or n)"));
        }

        return continuation();
    }

    /// <summary>The gRPC over HTTP/2 spec's Timeout: TimeoutValue (at most 8 ASCII digits) TimeoutUnit.</summary>
    public static bool IsValidTimeout(string? value)
    {
        if (value is null || value.Length is < 2 or > 9) return false;
        if (value[^1] is not ('H' or 'M' or 'S' or 'm' or 'u' or 'n')) return false;
        for (var i = 0; i < value.Length - 1; i++)
        {
            if (!char.IsAsciiDigit(value[i])) return false;
        }

        return true;
    }
}
