using System.Net;
using HaMaster.Server.Hosting;
using Microsoft.AspNetCore.Http;

namespace HaMaster.Server.Tests.Hosting;

/// <summary>
/// Issue 17, the web port: with security on, /api/status and /api/cluster need the cluster secret
/// (or, with --open-status-api, come from loopback); /api/digest always needs a credential when
/// one can be checked; with security off the status APIs are open and the digest is loopback-only.
/// </summary>
public sealed class WebAuthTests
{
    private const string Secret = "web-auth-test-secret-0123456789";
    private static readonly IPAddress Remote = IPAddress.Parse("10.2.3.4");

    private static DefaultHttpContext Request(IPAddress from, string? bearer = null)
    {
        var http = new DefaultHttpContext();
        http.Connection.RemoteIpAddress = from;
        http.Response.Body = new MemoryStream();
        if (bearer is not null) http.Request.Headers.Authorization = "Bearer " + bearer;
        return http;
    }

    [Fact]
    public async Task With_security_on_the_status_apis_need_the_secret_from_anywhere()
    {
        var auth = new WebAuth(Secret, tokens: false, secured: true, openStatusToLoopback: false);
        foreach (var from in new[] { IPAddress.Loopback, Remote })
        {
            var anonymous = Request(from);
            Assert.False(await auth.AllowStatusAsync(anonymous));
            Assert.Equal(StatusCodes.Status401Unauthorized, anonymous.Response.StatusCode);
            Assert.Equal("Bearer realm=\"hamaster\"", anonymous.Response.Headers.WWWAuthenticate.ToString());
            Assert.False(await auth.AllowStatusAsync(Request(from, "wrong-secret-0123456789")));
            Assert.True(await auth.AllowStatusAsync(Request(from, Secret)));
            Assert.True(await auth.AllowDigestAsync(Request(from, Secret)));
        }

        var header = Request(Remote);
        header.Request.Headers["hamaster-cluster-secret"] = Secret;
        Assert.True(await auth.AllowStatusAsync(header));
    }

    [Fact]
    public async Task Open_status_api_serves_loopback_only_and_never_opens_the_digest()
    {
        var auth = new WebAuth(Secret, tokens: false, secured: true, openStatusToLoopback: true);
        Assert.True(await auth.AllowStatusAsync(Request(IPAddress.Loopback)));
        Assert.True(await auth.AllowStatusAsync(Request(IPAddress.IPv6Loopback)));
        Assert.False(await auth.AllowStatusAsync(Request(Remote)));
        Assert.True(await auth.AllowStatusAsync(Request(Remote, Secret)));
        Assert.False(await auth.AllowDigestAsync(Request(IPAddress.Loopback)));
    }

    [Fact]
    public async Task Without_a_checkable_credential_loopback_callers_are_served_and_security_off_opens_the_status_apis()
    {
        // Security on without a secret or tokens (--auth tls, mutual TLS): nothing to check on plain HTTP.
        var tlsOnly = new WebAuth(null, tokens: false, secured: true, openStatusToLoopback: false);
        Assert.True(await tlsOnly.AllowStatusAsync(Request(IPAddress.Loopback)));
        var remote = Request(Remote);
        Assert.False(await tlsOnly.AllowStatusAsync(remote));
        remote.Response.Body.Position = 0;
        Assert.Contains("loopback callers only", await new StreamReader(remote.Response.Body).ReadToEndAsync(), StringComparison.Ordinal);

        var off = new WebAuth(null, tokens: false, secured: false, openStatusToLoopback: false);
        Assert.True(await off.AllowStatusAsync(Request(Remote)));
        Assert.False(await off.AllowDigestAsync(Request(Remote)));
        Assert.True(await off.AllowDigestAsync(Request(IPAddress.Loopback)));
    }
}
