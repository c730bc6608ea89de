using System.Net.Security;
using System.Security.Cryptography.X509Certificates;

namespace HaMaster.Client;

/// <summary>
/// TLS settings for masters started with <c>--tls-cert</c>: the client then connects with
/// https:// and checks the master's certificate against a private certificate authority (the
/// one given to the masters as <c>--tls-trusted-cert</c>) instead of the system store.
/// </summary>
public static class ClientTls
{
    /// <summary>
    /// Options that accept a server certificate only if it chains to <paramref name="authority"/>
    /// and names the host connected to. Revocation is not checked (private CAs rarely publish CRLs).
    /// </summary>
    public static SslClientAuthenticationOptions TrustingAuthority(X509Certificate2 authority)
    {
        ArgumentNullException.ThrowIfNull(authority);
        return new SslClientAuthenticationOptions
        {
            RemoteCertificateValidationCallback = (_, certificate, _, errors) =>
            {
                if (certificate is null || (errors & SslPolicyErrors.RemoteCertificateNameMismatch) != 0)
                {
                    return false;
                }

                using var chain = new X509Chain();
                chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
                chain.ChainPolicy.CustomTrustStore.Add(authority);
                chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
                using var leaf = new X509Certificate2(certificate);
                return chain.Build(leaf);
            },
        };
    }

    /// <summary><see cref="TrustingAuthority(X509Certificate2)"/> with the authority read from a PEM or DER file.</summary>
    public static SslClientAuthenticationOptions TrustingAuthority(string certificatePath) =>
        TrustingAuthority(X509CertificateLoader.LoadCertificateFromFile(certificatePath));
}
