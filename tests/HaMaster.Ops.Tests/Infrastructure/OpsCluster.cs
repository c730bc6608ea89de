using HaMaster.Client;

namespace HaMaster.Ops.Tests.Infrastructure;

/// <summary>How the ops suite runs a cluster: what is specific to it (test certificates, a client certificate, tokens) on top of <see cref="ClusterSettings"/>.</summary>
public sealed record OpsClusterOptions
{
    /// <summary>Voting masters (default 3).</summary>
    public int Size { get; init; } = 3;

    /// <summary>Flags added to every master (e.g. <c>--cluster-secret s</c>, <c>--rate-limit 5</c>).</summary>
    public IReadOnlyList<string> ExtraArguments { get; init; } = [];

    /// <summary>Non-null = masters serve TLS with this PFX and trust this CA for peer calls; clients use https.</summary>
    public TestCertificates? Tls { get; init; }

    /// <summary>Client certificate the cluster's own clients and channels present (masters started with --auth tls).</summary>
    public System.Security.Cryptography.X509Certificates.X509Certificate2? ClientCertificate { get; init; }

    /// <summary>Bearer token the cluster's own clients and channels send (masters started with --auth jwt).</summary>
    public string? BearerToken { get; init; }

    /// <summary>Bound of every wait for READY or a leader (default 40 s: builds may run alongside).</summary>
    public TimeSpan WaitTimeout { get; init; } = TimeSpan.FromSeconds(40);

    /// <summary>The harness settings: 50 ms ticks, the TLS flags and client TLS settings, then the extra flags.</summary>
    public ClusterSettings ToSettings()
    {
        var arguments = new List<string>();
        System.Net.Security.SslClientAuthenticationOptions? clientTls = null;
        if (Tls is { } tls)
        {
            arguments.AddRange(["--tls-cert", tls.ServerPfxPath, "--tls-cert-password", tls.PfxPassword, "--tls-trusted-cert", tls.AuthorityPemPath]);
            var trusting = ClientTls.TrustingAuthority(tls.Authority);
            clientTls = ClientCertificate is { } certificate ? ClientTls.WithClientCertificate(trusting, certificate) : trusting;
        }

        arguments.AddRange(ExtraArguments);
        return new ClusterSettings
        {
            Size = Size,
            WaitTimeout = WaitTimeout,
            ExtraArguments = arguments,
            ClientTls = clientTls,
            BearerToken = BearerToken,
            DirectoryPrefix = "hamaster-ops-",
        };
    }
}

/// <summary>The ops suite's way into <see cref="TestCluster"/> (the one process harness).</summary>
public static class OpsCluster
{
    /// <summary>Prepares masters (ports, directories) without starting them.</summary>
    public static TestCluster Create(OpsClusterOptions? options = null) => TestCluster.Create((options ?? new OpsClusterOptions()).ToSettings());

    /// <summary>Starts every master, waits for READY and a leader.</summary>
    public static Task<TestCluster> StartAsync(OpsClusterOptions? options = null) => TestCluster.StartAsync((options ?? new OpsClusterOptions()).ToSettings());
}
