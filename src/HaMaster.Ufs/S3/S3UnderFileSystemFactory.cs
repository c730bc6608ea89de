using Amazon;
using Amazon.Runtime;
using Amazon.S3;

namespace HaMaster.Ufs.S3;

/// <summary>
/// Creates <c>s3://bucket/prefix</c> connectors (AWS SDK for .NET). Validates the URI and the
/// <c>s3.*</c> properties (<see cref="S3StoreOptions"/>) without contacting the store.
/// </summary>
public sealed class S3UnderFileSystemFactory : IUnderFileSystemFactory
{
    public string Scheme => "s3";

    public IUnderFileSystem Create(Uri root, IReadOnlyDictionary<string, string> properties)
    {
        ArgumentNullException.ThrowIfNull(root);
        var options = S3StoreOptions.Parse(properties);
        var (bucket, prefix) = ParseRoot(root);
        var credentials = ResolveCredentials(options, root);
        return new S3UnderFileSystem(root, bucket, prefix, options, new AmazonS3Client(credentials, ClientConfig(options)));
    }

    /// <summary>Bucket and key prefix ("" or without leading/trailing '/') of an s3:// URI.</summary>
    internal static (string Bucket, string Prefix) ParseRoot(Uri root)
    {
        if (!string.Equals(root.Scheme, "s3", StringComparison.OrdinalIgnoreCase))
        {
            throw new UfsException(UfsErrorKind.InvalidArgument, $"'{root}' is not an s3:// URI");
        }

        if (!string.IsNullOrEmpty(root.UserInfo) || root.Query.Length > 0 || root.Fragment.Length > 0 || !root.IsDefaultPort)
        {
            throw new UfsException(UfsErrorKind.InvalidArgument,
                $"'{root}' must be s3://bucket/prefix without user info, port, query or fragment (credentials go in s3.access_key/s3.secret_key)");
        }

        // Uri lower-cases the host; S3 bucket names are lower case anyway (the rules checked below).
        var bucket = root.Host;
        if (bucket.Length is < 3 or > 63
            || !bucket.All(c => char.IsAsciiLetterLower(c) || char.IsAsciiDigit(c) || c is '-' or '.')
            || !char.IsAsciiLetterOrDigit(bucket[0]) || !char.IsAsciiLetterOrDigit(bucket[^1]))
        {
            throw new UfsException(UfsErrorKind.InvalidArgument,
                $"'{bucket}' in '{root}' is not a valid bucket name (3-63 characters: lower-case letters, digits, '-' and '.')");
        }

        var prefix = Uri.UnescapeDataString(root.AbsolutePath).Trim('/');
        if (prefix.Length > 0)
        {
            S3UnderFileSystem.CheckRelativePath(prefix, root);
        }

        return (bucket, prefix);
    }

    private static AWSCredentials ResolveCredentials(S3StoreOptions options, Uri root)
    {
        if (options.AccessKey is not null && options.SecretKey is not null)
        {
            return new BasicAWSCredentials(options.AccessKey, options.SecretKey);
        }

        // Only the environment variables: the SDK's full default chain would also ask the EC2
        // instance metadata service, a network call the mount check must not wait for.
        var accessKey = Environment.GetEnvironmentVariable("AWS_ACCESS_KEY_ID");
        var secretKey = Environment.GetEnvironmentVariable("AWS_SECRET_ACCESS_KEY");
        if (string.IsNullOrEmpty(accessKey) || string.IsNullOrEmpty(secretKey))
        {
            throw new UfsException(UfsErrorKind.InvalidArgument,
                $"no credentials for '{root}': set {S3StoreOptions.AccessKeyProperty} and {S3StoreOptions.SecretKeyProperty}, or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY in the master's environment");
        }

        var sessionToken = Environment.GetEnvironmentVariable("AWS_SESSION_TOKEN");
        return string.IsNullOrEmpty(sessionToken)
            ? new BasicAWSCredentials(accessKey, secretKey)
            : new SessionAWSCredentials(accessKey, secretKey, sessionToken);
    }

    private static AmazonS3Config ClientConfig(S3StoreOptions options)
    {
        var config = new AmazonS3Config
        {
            ForcePathStyle = options.PathStyle,
            Timeout = options.Timeout,
            ConnectTimeout = options.Timeout < TimeSpan.FromSeconds(5) ? options.Timeout : TimeSpan.FromSeconds(5),
            MaxErrorRetry = options.MaxRetries,
            RetryMode = RequestRetryMode.Standard,
            // Our endpoint property decides, not AWS_ENDPOINT_URL* in the master's environment.
            IgnoreConfiguredEndpointUrls = true,
            // Checksums only where S3 requires them: S3-compatible servers (and older ones) do
            // not all understand the SDK 4 default of trailing checksums on every upload.
            RequestChecksumCalculation = RequestChecksumCalculation.WHEN_REQUIRED,
            ResponseChecksumValidation = ResponseChecksumValidation.WHEN_REQUIRED,
        };
        if (options.Endpoint is not null)
        {
            config.ServiceURL = options.Endpoint.ToString();
            config.AuthenticationRegion = options.Region;
            config.UseHttp = options.Endpoint.Scheme == Uri.UriSchemeHttp;
        }
        else
        {
            config.RegionEndpoint = RegionEndpoint.GetBySystemName(options.Region);
        }

        return config;
    }
}
