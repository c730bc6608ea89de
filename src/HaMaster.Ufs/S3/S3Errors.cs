using System.Net;
using System.Net.Sockets;
using Amazon.Runtime;
using Amazon.S3;

namespace HaMaster.Ufs.S3;

/// <summary>
/// The one place that turns AWS SDK failures into <see cref="UfsException"/>s: 404/NoSuchKey/NoSuchBucket
/// → NotFound; 401/403/InvalidAccessKeyId/SignatureDoesNotMatch → PermissionDenied; connection
/// failures, timeouts, throttling and 5xx → Unavailable; other 4xx → InvalidArgument.
/// </summary>
internal static class S3Errors
{
    private static readonly HashSet<string> NotFoundCodes = new(StringComparer.Ordinal) { "NoSuchKey", "NoSuchBucket", "NotFound", "NoSuchUpload" };

    private static readonly HashSet<string> DeniedCodes = new(StringComparer.Ordinal)
    {
        "AccessDenied", "InvalidAccessKeyId", "SignatureDoesNotMatch", "ExpiredToken", "InvalidToken",
        "AllAccessDisabled", "AccountProblem", "InvalidSecurity", "RequestTimeTooSkewed",
    };

    private static readonly HashSet<string> UnavailableCodes = new(StringComparer.Ordinal)
    {
        "SlowDown", "ServiceUnavailable", "InternalError", "RequestTimeout", "Throttling", "ThrottlingException",
    };

    /// <summary>Maps <paramref name="error"/>; <paramref name="what"/> names the operation and s3:// location.</summary>
    public static UfsException Map(Exception error, string what, TimeSpan timeout)
    {
        switch (error)
        {
            case UfsException ufs:
                return ufs;
            case OperationCanceledException:
                return new UfsException(UfsErrorKind.Unavailable, $"{what}: no answer within {timeout.TotalMilliseconds:0} ms (s3.timeout_ms)", error);
            case AmazonServiceException service when service.StatusCode != 0 || !string.IsNullOrEmpty(service.ErrorCode):
                return MapService(service, what);
            default:
                if (IsNetwork(error))
                {
                    return new UfsException(UfsErrorKind.Unavailable, $"{what}: store unreachable ({Innermost(error).Message})", error);
                }

                return new UfsException(UfsErrorKind.Unavailable, $"{what}: {error.GetType().Name}: {Innermost(error).Message}", error);
        }
    }

    private static UfsException MapService(AmazonServiceException error, string what)
    {
        var code = error.ErrorCode ?? string.Empty;
        var status = (int)error.StatusCode;
        var detail = $"{what}: {(code.Length > 0 ? code : "HTTP " + status)}{(string.IsNullOrEmpty(error.Message) ? "" : " (" + error.Message + ")")}";
        UfsErrorKind kind;
        if (NotFoundCodes.Contains(code) || error.StatusCode == HttpStatusCode.NotFound)
        {
            kind = UfsErrorKind.NotFound;
            if (code == "NoSuchBucket")
            {
                detail = $"{what}: the bucket does not exist (NoSuchBucket)";
            }
        }
        else if (DeniedCodes.Contains(code) || error.StatusCode is HttpStatusCode.Forbidden or HttpStatusCode.Unauthorized)
        {
            kind = UfsErrorKind.PermissionDenied;
        }
        else if (UnavailableCodes.Contains(code) || status >= 500 || status == 429 || status == 0)
        {
            kind = UfsErrorKind.Unavailable;
        }
        else if (code == "PreconditionFailed" || error.StatusCode == HttpStatusCode.PreconditionFailed)
        {
            kind = UfsErrorKind.AlreadyExists;
        }
        else
        {
            kind = UfsErrorKind.InvalidArgument;
        }

        return new UfsException(kind, detail, error);
    }

    private static bool IsNetwork(Exception error)
    {
        for (var e = error; e is not null; e = e.InnerException)
        {
            if (e is HttpRequestException or SocketException or IOException or TimeoutException)
            {
                return true;
            }
        }

        return false;
    }

    private static Exception Innermost(Exception error)
    {
        var e = error;
        while (e.InnerException is not null)
        {
            e = e.InnerException;
        }

        return e;
    }
}
