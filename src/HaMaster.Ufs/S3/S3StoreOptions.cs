using System.Globalization;

namespace HaMaster.Ufs.S3;

/// <summary>
/// Connection settings of one <c>s3://</c> mount, parsed from the mount's <c>s3.*</c> properties.
/// Immutable; <see cref="Parse"/> validates every value and names the property that is wrong.
/// </summary>
/// <param name="Endpoint">
/// <c>s3.endpoint</c>: an http(s) URL of an S3-compatible server (e.g. <c>http://127.0.0.1:9000</c>);
/// null (the default) means AWS's regional endpoint for <see cref="Region"/>.
/// </param>
/// <param name="Region"><c>s3.region</c>: signing region, default <c>us-east-1</c>.</param>
/// <param name="AccessKey"><c>s3.access_key</c>; with <see cref="SecretKey"/>, or both null to use
/// the environment's AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY (and AWS_SESSION_TOKEN).</param>
/// <param name="SecretKey"><c>s3.secret_key</c>.</param>
/// <param name="PathStyle"><c>s3.path_style</c>: address buckets as <c>endpoint/bucket/key</c>
/// (default true, what S3-compatible servers expect) rather than <c>bucket.endpoint/key</c>.</param>
/// <param name="Timeout"><c>s3.timeout_ms</c>: bound on one S3 request including its retries,
/// default 10 s, so an unreachable store fails fast (the leader validates a mount with it).</param>
/// <param name="MaxRetries"><c>s3.max_retries</c>: SDK retries of a failed request, default 2.</param>
public sealed record S3StoreOptions(
    Uri? Endpoint,
    string Region,
    string? AccessKey,
    string? SecretKey,
    bool PathStyle,
    TimeSpan Timeout,
    int MaxRetries)
{
    public const string EndpointProperty = "s3.endpoint";
    public const string RegionProperty = "s3.region";
    public const string AccessKeyProperty = "s3.access_key";
    public const string SecretKeyProperty = "s3.secret_key";
    public const string PathStyleProperty = "s3.path_style";
    public const string TimeoutProperty = "s3.timeout_ms";
    public const string MaxRetriesProperty = "s3.max_retries";

    public static readonly TimeSpan DefaultTimeout = TimeSpan.FromSeconds(10);
    public const int DefaultMaxRetries = 2;
    public const string DefaultRegion = "us-east-1";

    private static readonly string[] Known =
        [EndpointProperty, RegionProperty, AccessKeyProperty, SecretKeyProperty, PathStyleProperty, TimeoutProperty, MaxRetriesProperty];

    /// <summary>
    /// Reads the <c>s3.*</c> entries of <paramref name="properties"/> (other keys belong to the
    /// mount itself and are ignored). Throws InvalidArgument for an unknown <c>s3.*</c> key or a bad value.
    /// </summary>
    public static S3StoreOptions Parse(IReadOnlyDictionary<string, string> properties)
    {
        ArgumentNullException.ThrowIfNull(properties);
        foreach (var key in properties.Keys)
        {
            if (key.StartsWith("s3.", StringComparison.OrdinalIgnoreCase) && !Known.Contains(key, StringComparer.Ordinal))
            {
                throw Invalid($"unknown property '{key}' (known: {string.Join(", ", Known)})");
            }
        }

        Uri? endpoint = null;
        if (properties.TryGetValue(EndpointProperty, out var endpointText))
        {
            if (!Uri.TryCreate(endpointText, UriKind.Absolute, out endpoint)
                || (endpoint.Scheme != Uri.UriSchemeHttp && endpoint.Scheme != Uri.UriSchemeHttps)
                || endpoint.Query.Length > 0 || !string.IsNullOrEmpty(endpoint.UserInfo))
            {
                throw Invalid($"{EndpointProperty} '{endpointText}' is not an http:// or https:// URL without query or user info");
            }
        }

        var region = properties.GetValueOrDefault(RegionProperty, DefaultRegion);
        if (region.Length == 0 || region.Length > 64 || !region.All(c => char.IsAsciiLetterLower(c) || char.IsAsciiDigit(c) || c == '-'))
        {
            throw Invalid($"{RegionProperty} '{region}' is not a region name such as us-east-1");
        }

        var accessKey = properties.GetValueOrDefault(AccessKeyProperty);
        var secretKey = properties.GetValueOrDefault(SecretKeyProperty);
        if ((accessKey is null) != (secretKey is null))
        {
            throw Invalid($"{AccessKeyProperty} and {SecretKeyProperty} must be given together");
        }

        if (accessKey is { Length: 0 } || secretKey is { Length: 0 })
        {
            throw Invalid($"{AccessKeyProperty} and {SecretKeyProperty} must not be empty");
        }

        var pathStyle = true;
        if (properties.TryGetValue(PathStyleProperty, out var pathStyleText) && !bool.TryParse(pathStyleText, out pathStyle))
        {
            throw Invalid($"{PathStyleProperty} '{pathStyleText}' is not true or false");
        }

        var timeout = DefaultTimeout;
        if (properties.TryGetValue(TimeoutProperty, out var timeoutText))
        {
            if (!int.TryParse(timeoutText, NumberStyles.None, CultureInfo.InvariantCulture, out var ms) || ms < 100 || ms > 600_000)
            {
                throw Invalid($"{TimeoutProperty} '{timeoutText}' is not a whole number of milliseconds in [100, 600000]");
            }

            timeout = TimeSpan.FromMilliseconds(ms);
        }

        var retries = DefaultMaxRetries;
        if (properties.TryGetValue(MaxRetriesProperty, out var retriesText)
            && (!int.TryParse(retriesText, NumberStyles.None, CultureInfo.InvariantCulture, out retries) || retries > 10))
        {
            throw Invalid($"{MaxRetriesProperty} '{retriesText}' is not a whole number in [0, 10]");
        }

        return new S3StoreOptions(endpoint, region, accessKey, secretKey, pathStyle, timeout, retries);
    }

    /// <summary>Never prints the secret key (records print every member by default).</summary>
    public override string ToString() =>
        $"S3StoreOptions {{ Endpoint = {Endpoint?.ToString() ?? "(AWS)"}, Region = {Region}, AccessKey = {AccessKey ?? "(environment)"}, PathStyle = {PathStyle}, Timeout = {Timeout.TotalMilliseconds} ms, MaxRetries = {MaxRetries} }}";

    private static UfsException Invalid(string message) => new(UfsErrorKind.InvalidArgument, message);
}
