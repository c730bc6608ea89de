using HaMaster.Server.Configuration;
using HaMaster.Server.Services;

namespace HaMaster.Server.Tests.Services;

/// <summary>Issue 17 settings: --auth parsing, the flags, what Validate refuses, and the group mapping formats.</summary>
public sealed class ClientAuthenticationSettingsTests
{
    private const string Members = "1=127.0.0.1:19200/127.0.0.1:19300";

    [Theory]
    [InlineData("simple", ClientAuthModes.Simple)]
    [InlineData("TLS", ClientAuthModes.Tls)]
    [InlineData("jwt", ClientAuthModes.Jwt)]
    [InlineData("tls, jwt", ClientAuthModes.Tls | ClientAuthModes.Jwt)]
    public void Auth_modes_parse(string text, ClientAuthModes expected)
    {
        Assert.Equal(expected, ClientAuthModesText.Parse(text));
        Assert.Equal(expected, ClientAuthModesText.Parse(ClientAuthModesText.Name(expected)));
    }

    [Theory]
    [InlineData("kerberos", "'kerberos' is not one of simple, tls, jwt")]
    [InlineData("simple,jwt", "cannot be combined")]
    [InlineData(" , ", "must name")]
    public void Bad_auth_modes_are_refused_naming_the_flag(string text, string message)
    {
        var e = Assert.Throws<ArgumentException>(() => ClientAuthModesText.Parse(text));
        Assert.Contains("--auth", e.Message, StringComparison.Ordinal);
        Assert.Contains(message, e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Flags_map_to_the_settings_and_the_default_is_simple()
    {
        Assert.Equal(ClientAuthModes.Simple, MasterConfiguration.Load([]).ClientAuth);
        var o = MasterConfiguration.Load([
            "--auth", "tls,jwt", "--client-ca", "ca.pem", "--group-mapping", "groups.txt", "--jwt-key-file", "k", "--jwt-issuer", "iss",
            "--jwt-audience", "aud", "--jwt-user-claim", "preferred_username", "--jwt-groups-claim", "roles"]);
        Assert.Equal(ClientAuthModes.Tls | ClientAuthModes.Jwt, o.ClientAuth);
        Assert.Equal(("ca.pem", "groups.txt", "k", "iss", "aud"), (o.ClientCaPath, o.GroupMappingPath, o.JwtKeyFile, o.JwtIssuer, o.JwtAudience));
        Assert.Equal(("preferred_username", "roles"), (o.JwtUserClaim, o.JwtGroupsClaim));
    }

    [Fact]
    public void Validate_refuses_incomplete_authentication_settings()
    {
        var key = Path.GetTempFileName();
        try
        {
            var baseline = MasterConfiguration.Load(["--id", "1", "--members", Members]);
            Assert.Contains("--tls-cert", Assert.Throws<ArgumentException>(() => (baseline with { ClientAuth = ClientAuthModes.Tls }).Validate()).Message, StringComparison.Ordinal);
            Assert.Contains("--client-ca", Assert.Throws<ArgumentException>(() => (baseline with { ClientAuth = ClientAuthModes.Tls, TlsCertificatePath = key }).Validate()).Message, StringComparison.Ordinal);
            Assert.Contains("exactly one", Assert.Throws<ArgumentException>(() => (baseline with { ClientAuth = ClientAuthModes.Jwt }).Validate()).Message, StringComparison.Ordinal);
            Assert.Contains("exactly one", Assert.Throws<ArgumentException>(() => (baseline with { ClientAuth = ClientAuthModes.Jwt, JwtKeyFile = key, JwtJwksFile = key }).Validate()).Message, StringComparison.Ordinal);
            Assert.Contains("does not exist", Assert.Throws<ArgumentException>(() => (baseline with { ClientAuth = ClientAuthModes.Jwt, JwtKeyFile = key + ".missing" }).Validate()).Message, StringComparison.Ordinal);
            (baseline with { ClientAuth = ClientAuthModes.Jwt, JwtKeyFile = key }).Validate();

            // A short HS256 secret is refused when the authentication is built (at start).
            File.WriteAllText(key, "too-short\n");
            var shortKey = Assert.Throws<ArgumentException>(() => ClientAuthentication.Create(baseline with { ClientAuth = ClientAuthModes.Jwt, JwtKeyFile = key }));
            Assert.Contains("at least 32 bytes (got 9)", shortKey.Message, StringComparison.Ordinal);
        }
        finally
        {
            File.Delete(key);
        }
    }

    [Fact]
    public void Group_mapping_reads_text_and_json_and_defaults_to_the_users_own_group()
    {
        var text = GroupMapping.Parse("# comment\nalice: staff, dev  # trailing comment\n\nbob:ops\n", "groups.txt");
        Assert.Equal(["staff", "dev"], text.GroupsOf("alice"));
        Assert.Equal(["ops"], text.GroupsOf("bob"));
        Assert.Equal(["carol"], text.GroupsOf("carol"));

        var json = GroupMapping.Parse("{\"alice\": [\"staff\", \"dev\"], \"bob\": [\"ops\"]}", "groups.json");
        Assert.Equal(["staff", "dev"], json.GroupsOf("alice"));
        Assert.Null(json.Find("carol"));
    }

    [Theory]
    [InlineData("alice staff", "line 1: expected 'user: group1,group2'")]
    [InlineData("alice: staff\nalice: dev", "line 2: user 'alice' is listed twice")]
    [InlineData("alice:", "user 'alice' has no groups")]
    [InlineData("{\"alice\": \"staff\"}", "must map to an array")]
    [InlineData("{\"alice\": [", "not valid JSON")]
    public void Group_mapping_mistakes_name_the_file_and_place(string content, string message)
    {
        var e = Assert.Throws<ArgumentException>(() => GroupMapping.Parse(content, "groups.map"));
        Assert.Contains("groups.map", e.Message, StringComparison.Ordinal);
        Assert.Contains(message, e.Message, StringComparison.Ordinal);
    }
}
