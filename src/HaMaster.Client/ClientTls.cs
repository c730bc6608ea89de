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

    /// <summary>
    /// <paramref name="tls"/> (or, when null, the system's trusted roots) plus a client certificate
    /// to present to masters started with <c>--auth tls</c>: the master takes the user from its
    /// subject CN. The certificate needs its private key.
    /// </summary>
    public static SslClientAuthenticationOptions WithClientCertificate(SslClientAuthenticationOptions? tls, X509Certificate2 certificate)
    {
        ArgumentNullException.ThrowIfNull(certificate);
        if (!certificate.HasPrivateKey)
        {
            throw new ArgumentException($"client certificate {certificate.Subject} has no private key", nameof(certificate));
        }

        return new SslClientAuthenticationOptions
        {
            RemoteCertificateValidationCallback = tls?.RemoteCertificateValidationCallback,
            ClientCertificates = [certificate],
            // Always offer this certificate, whatever authorities the server names as acceptable.
            LocalCertificateSelectionCallback = (_, _, _, _, _) => certificate,
        };
    }

    /// <summary>
    /// Reads a client certificate with its private key: a PKCS#12 file (.pfx/.p12, with
    /// <paramref name="password"/>) when <paramref name="keyPath"/> is null and the file is not
    /// PEM, else a PEM certificate and a PEM private key (<paramref name="keyPath"/>, or the same
    /// file when null).
    /// </summary>
    public static X509Certificate2 LoadClientCertificate(string certificatePath, string? keyPath = null, string? password = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(certificatePath);
        var isPem = File.ReadAllText(certificatePath).Contains("-----BEGIN", StringComparison.Ordinal);
        if (keyPath is null && !isPem)
        {
            return X509CertificateLoader.LoadPkcs12FromFile(certificatePath, password);
        }

        return password is null
            ? X509Certificate2.CreateFromPemFile(certificatePath, keyPath)
            : X509Certificate2.CreateFromEncryptedPemFile(certificatePath, password, keyPath);
    }

    /// <summary><see cref="TrustingAuthority(X509Certificate2)"/> with the authority read from a PEM or DER file.</summary>
    public static SslClientAuthenticationOptions TrustingAuthority(string certificatePath) =>
        TrustingAuthority(X509CertificateLoader.LoadCertificateFromFile(certificatePath));
}
