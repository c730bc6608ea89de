using System.Security.Claims;
using Grpc.Core;
using HaMaster.Server.Configuration;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authentication.Certificate;
using Microsoft.AspNetCore.Authentication.JwtBearer;
using Microsoft.Extensions.Logging;
using Microsoft.IdentityModel.Tokens;

namespace HaMaster.Server.Services;

/// <summary>
/// The caller's identity when the client port authenticates (<c>--auth tls</c>, <c>jwt</c> or
/// both): a bearer token in the <c>authorization</c> metadata is checked when present, else the
/// connection's client certificate; the verified principal becomes the call's <c>Caller</c>
/// (<see cref="CallerIdentity.From"/>) and <c>HttpContext.User</c>. A call with neither gets
/// UNAUTHENTICATED saying what is missing. The <c>hamaster-user</c> / <c>hamaster-groups</c>
/// headers cannot change the identity: a user header naming someone else, or a groups header
/// naming a group the principal is not in, is refused with PERMISSION_DENIED (a mistake or an
/// impersonation attempt, either way better loud than ignored). Health checks and reflection
/// stay open. Thread-safe.
/// </summary>
internal sealed class AuthenticatedCallerInterceptor(ClientAuthentication authentication, ILogger logger) : CallInterceptor
{
    protected override async Task<T> InterceptAsync<T>(ServerCallContext context, Func<Task<T>> continuation)
    {
        if (IsOpen(context.Method)) return await continuation().ConfigureAwait(false);

        var http = context.GetHttpContext();
        var principal = await AuthenticateAsync(http, context).ConfigureAwait(false);
        var caller = CallerIdentity.Create(
            principal.FindFirst(ClientAuthentication.UserClaim)?.Value,
            principal.FindAll(ClientAuthentication.GroupClaim).Select(c => c.Value));
        CheckClaimedIdentity(context, caller);
        http.User = principal;
        context.UserState[CallerIdentity.StateKey] = caller;
        context.UserState[CallerIdentity.AuthenticatedKey] = true;
        return await continuation().ConfigureAwait(false);
    }

    /// <summary>Health (grpc.health.v1) and reflection answer without credentials: load balancers and tools probe them.</summary>
    internal static bool IsOpen(string method) =>
        method.StartsWith("/grpc.health.", StringComparison.Ordinal) || method.StartsWith("/grpc.reflection.", StringComparison.Ordinal);

    private async Task<ClaimsPrincipal> AuthenticateAsync(Microsoft.AspNetCore.Http.HttpContext http, ServerCallContext context)
    {
        var modes = authentication.Modes;
        if (modes.HasFlag(ClientAuthModes.Jwt) && context.RequestHeaders.Get("authorization") is not null)
        {
            var result = await http.AuthenticateAsync(JwtBearerDefaults.AuthenticationScheme).ConfigureAwait(false);
            if (result.Succeeded) return result.Principal;
            throw Refuse(context, result.None
                ? "the authorization metadata must be 'Bearer <token>'"
                : $"bearer token rejected: {Reason(result.Failure)}");
        }

        if (modes.HasFlag(ClientAuthModes.Tls) && http.Connection.ClientCertificate is not null)
        {
            var result = await http.AuthenticateAsync(CertificateAuthenticationDefaults.AuthenticationScheme).ConfigureAwait(false);
            if (result.Succeeded) return result.Principal;
            throw Refuse(context, result.Failure is CallerAuthenticationException ours
                ? $"client certificate rejected: {ours.Message}"
                : "client certificate rejected: it does not chain to the masters' client CA (--client-ca), is outside its validity period, or is not for client authentication");
        }

        throw Refuse(context, modes switch
        {
            ClientAuthModes.Jwt => "this master requires a bearer token: send 'authorization: Bearer <JWT>' metadata",
            ClientAuthModes.Tls => "this master requires a client certificate (mutual TLS)",
            _ => "this master requires a client certificate (mutual TLS) or a bearer token ('authorization: Bearer <JWT>' metadata)",
        });
    }

    /// <summary>What was wrong with a token, in our words (the library's exception text is not shown to callers).</summary>
    private static string Reason(Exception? failure) => failure switch
    {
        CallerAuthenticationException ours => ours.Message,
        SecurityTokenExpiredException => "it has expired",
        SecurityTokenNotYetValidException => "it is not valid yet",
        SecurityTokenNoExpirationException => "it has no expiry (exp claim)",
        SecurityTokenInvalidLifetimeException => "its lifetime (nbf, exp) is not valid",
        SecurityTokenInvalidSignatureException or SecurityTokenSignatureKeyNotFoundException => "its signature does not verify with the masters' key",
        SecurityTokenInvalidAlgorithmException => "its signing algorithm is not accepted",
        SecurityTokenInvalidIssuerException => "its issuer (iss) is not accepted",
        SecurityTokenInvalidAudienceException => "its audience (aud) is not accepted",
        SecurityTokenMalformedException or ArgumentException => "it is not a well-formed JWT",
        _ => "it is not valid",
    };

    private static void CheckClaimedIdentity(ServerCallContext context, Protos.V1.Caller caller)
    {
        if (context.RequestHeaders.GetValue(CallerIdentity.UserHeader) is { } claimed && claimed.Trim() != caller.User)
        {
            throw ServerErrors.Status(StatusCode.PermissionDenied,
                $"header {CallerIdentity.UserHeader} '{claimed}' does not match the authenticated caller '{caller.User}': the identity comes from the certificate or token");
        }

        if (context.RequestHeaders.GetValue(CallerIdentity.GroupsHeader) is { } groups)
        {
            foreach (var group in groups.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
            {
                if (!caller.Groups.Contains(group))
                {
                    throw ServerErrors.Status(StatusCode.PermissionDenied,
                        $"header {CallerIdentity.GroupsHeader} names group '{group}' that the authenticated caller '{caller.User}' is not in");
                }
            }
        }
    }

    private RpcException Refuse(ServerCallContext context, string reason)
    {
        LogMessages.Unauthenticated(logger, context.Method, context.Peer, reason);
        return ServerErrors.Status(StatusCode.Unauthenticated, $"{context.Method}: {reason}");
    }
}
