using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace HaMaster.Ops.Tests.Infrastructure;

/// <summary>
/// A throw-away certificate authority and a server certificate for 127.0.0.1/localhost signed by
/// it, generated at test time (RSA 2048, valid one day) and written to a temporary directory:
/// the server's PFX (with password) and the CA's PEM, as the masters' --tls-* flags expect.
/// It also issues client certificates (<see cref="IssueClientCertificate"/>) for --auth tls.
/// </summary>
public sealed class TestCertificates : IDisposable
{
    private readonly string _directory;

    private readonly X509Certificate2 _issuer;
    private int _issued;

    private TestCertificates(string directory, X509Certificate2 issuer, X509Certificate2 authority, string pfxPath, string pemPath, string password)
    {
        _directory = directory;
        _issuer = issuer;
        Authority = authority;
        ServerPfxPath = pfxPath;
        AuthorityPemPath = pemPath;
        PfxPassword = password;
    }

    /// <summary>The CA certificate (public part only).</summary>
    public X509Certificate2 Authority { get; }

    public string ServerPfxPath { get; }

    public string AuthorityPemPath { get; }

    public string PfxPassword { get; }

    /// <summary>A new CA named <paramref name="authorityName"/> (give two CAs of one test different names: chains are built by issuer name).</summary>
    public static TestCertificates Create(string authorityName = "HaMaster Test CA")
    {
        var directory = Directory.CreateTempSubdirectory("hamaster-tls-").FullName;
        var now = DateTimeOffset.UtcNow;
        using var caKey = RSA.Create(2048);
        var caRequest = new CertificateRequest($"CN={authorityName}", caKey, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        caRequest.CertificateExtensions.Add(new X509BasicConstraintsExtension(true, false, 0, true));
        caRequest.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.KeyCertSign | X509KeyUsageFlags.CrlSign, true));
        caRequest.CertificateExtensions.Add(new X509SubjectKeyIdentifierExtension(caRequest.PublicKey, false));
        var ca = caRequest.CreateSelfSigned(now.AddMinutes(-5), now.AddDays(1));

        using var serverKey = RSA.Create(2048);
        var serverRequest = new CertificateRequest("CN=127.0.0.1", serverKey, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        var names = new SubjectAlternativeNameBuilder();
        names.AddIpAddress(IPAddress.Loopback);
        names.AddDnsName("localhost");
        serverRequest.CertificateExtensions.Add(names.Build());
        serverRequest.CertificateExtensions.Add(new X509BasicConstraintsExtension(false, false, 0, false));
        serverRequest.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.DigitalSignature | X509KeyUsageFlags.KeyEncipherment, false));
        serverRequest.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([new Oid("1.3.6.1.5.5.7.3.1"), new Oid("1.3.6.1.5.5.7.3.2")], false));
        var serial = new byte[12];
        RandomNumberGenerator.Fill(serial);
        serial[0] &= 0x7F;
        using var signed = serverRequest.Create(ca, now.AddMinutes(-5), now.AddDays(1), serial);
        using var server = signed.CopyWithPrivateKey(serverKey);

        const string password = "test-pfx-password";
        var pfxPath = Path.Combine(directory, "server.pfx");
        var pemPath = Path.Combine(directory, "ca.pem");
        File.WriteAllBytes(pfxPath, server.Export(X509ContentType.Pfx, password));
        File.WriteAllText(pemPath, ca.ExportCertificatePem());
        return new TestCertificates(directory, ca, X509CertificateLoader.LoadCertificate(ca.RawData), pfxPath, pemPath, password);
    }

    /// <summary>
    /// A client certificate for subject <c>CN=<paramref name="commonName"/></c> signed by this CA
    /// (clientAuth usage unless <paramref name="clientAuth"/> is false), with its private key.
    /// </summary>
    public X509Certificate2 IssueClientCertificate(string commonName, bool clientAuth = true)
    {
        var now = DateTimeOffset.UtcNow;
        using var key = RSA.Create(2048);
        var request = new CertificateRequest($"CN={commonName}", key, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(false, false, 0, false));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.DigitalSignature | X509KeyUsageFlags.KeyEncipherment, false));
        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([new Oid(clientAuth ? "1.3.6.1.5.5.7.3.2" : "1.3.6.1.5.5.7.3.1")], false));
        var serial = new byte[12];
        RandomNumberGenerator.Fill(serial);
        serial[0] &= 0x7F;
        using var signed = request.Create(_issuer, now.AddMinutes(-4), new DateTimeOffset(_issuer.NotAfter).AddMinutes(-1), serial);
        using var withKey = signed.CopyWithPrivateKey(key);
        // Through PKCS#12 so the key is a persisted one, as a certificate read from a file would be.
        return X509CertificateLoader.LoadPkcs12(withKey.Export(X509ContentType.Pfx, PfxPassword), PfxPassword);
    }

    /// <summary><see cref="IssueClientCertificate"/> written as PEM certificate and key files (for the CLI's --tls-cert/--tls-key).</summary>
    public (string CertificatePath, string KeyPath) WriteClientPem(string commonName)
    {
        using var certificate = IssueClientCertificate(commonName);
        var n = Interlocked.Increment(ref _issued);
        var certificatePath = Path.Combine(_directory, $"client-{n}.crt");
        var keyPath = Path.Combine(_directory, $"client-{n}.key");
        File.WriteAllText(certificatePath, certificate.ExportCertificatePem());
        File.WriteAllText(keyPath, certificate.GetRSAPrivateKey()!.ExportPkcs8PrivateKeyPem());
        return (certificatePath, keyPath);
    }

    public void Dispose()
    {
        Authority.Dispose();
        _issuer.Dispose();
        try
        {
            Directory.Delete(_directory, recursive: true);
        }
        catch (IOException)
        {
            // Best effort: the temp cleaner takes it.
        }
    }
}
