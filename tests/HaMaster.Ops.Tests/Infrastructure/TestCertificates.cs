using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace HaMaster.Ops.Tests.Infrastructure;

/// <summary>
/// A throw-away certificate authority and a server certificate for 127.0.0.1/localhost signed by
/// it, generated at test time (RSA 2048, valid one day) and written to a temporary directory:
/// the server's PFX (with password) and the CA's PEM, as the masters' --tls-* flags expect.
/// </summary>
public sealed class TestCertificates : IDisposable
{
    private readonly string _directory;

    private TestCertificates(string directory, X509Certificate2 authority, string pfxPath, string pemPath, string password)
    {
        _directory = directory;
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

    public static TestCertificates Create()
    {
        var directory = Directory.CreateTempSubdirectory("hamaster-tls-").FullName;
        var now = DateTimeOffset.UtcNow;
        using var caKey = RSA.Create(2048);
        var caRequest = new CertificateRequest("CN=HaMaster Test CA", caKey, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        caRequest.CertificateExtensions.Add(new X509BasicConstraintsExtension(true, false, 0, true));
        caRequest.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.KeyCertSign | X509KeyUsageFlags.CrlSign, true));
        caRequest.CertificateExtensions.Add(new X509SubjectKeyIdentifierExtension(caRequest.PublicKey, false));
        using var ca = caRequest.CreateSelfSigned(now.AddMinutes(-5), now.AddDays(1));

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
        return new TestCertificates(directory, X509CertificateLoader.LoadCertificate(ca.RawData), pfxPath, pemPath, password);
    }

    public void Dispose()
    {
        Authority.Dispose();
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
