using HaMaster.Client;
using Grpc.Core;

namespace HaMaster.Cluster.Tests.Infrastructure;

/// <summary>Assertions on failed calls and bounded retries of transient outcomes.</summary>
internal static class Expect
{
    /// <summary>Asserts that <paramref name="call"/> fails with <paramref name="status"/> through the client library.</summary>
    public static async Task<HaMasterException> StatusAsync(StatusCode status, Func<Task> call)
    {
        var error = await Assert.ThrowsAnyAsync<HaMasterException>(call);
        Assert.True(error.Status == status, $"expected {status}, got {error.Status}: {error.Detail}");
        return error;
    }

    /// <summary>Asserts that a raw channel call fails with <paramref name="status"/>.</summary>
    public static async Task<RpcException> GrpcStatusAsync(StatusCode status, Func<Task> call)
    {
        var error = await Assert.ThrowsAsync<RpcException>(call);
        Assert.True(error.StatusCode == status, $"expected {status}, got {error.StatusCode}: {error.Status.Detail}");
        return error;
    }

    /// <summary>
    /// Runs a single-attempt call again while it answers UNAVAILABLE (a master between leaders
    /// under a loaded machine), at most 20 times within 30 s. Use only for calls that take no
    /// effect when they answer UNAVAILABLE (reads, and writes on a cluster nobody kills).
    /// </summary>
    public static async Task<T> RetryUnavailableAsync<T>(Func<Task<T>> call)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                return await call();
            }
            catch (Exception e) when (IsUnavailable(e) && attempt < 20 && DateTime.UtcNow < deadline)
            {
                await Task.Delay(TimeSpan.FromMilliseconds(100 * attempt));
            }
        }
    }

    private static bool IsUnavailable(Exception e) =>
        e is HaMasterException { Status: StatusCode.Unavailable } or RpcException { StatusCode: StatusCode.Unavailable };
}
