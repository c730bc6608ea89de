using Grpc.Core;
using HaMaster.Server.Hosting;

namespace HaMaster.Server.Services;

/// <summary>
/// Counts the client port's calls in their handlers against
/// <see cref="GrpcPortLimits.MaxCallsInProgress"/>, per caller (<see cref="ClientAdmission.EnterCall"/>:
/// each caller's fair share): one over the limit is answered RESOURCE_EXHAUSTED at once instead of
/// queueing in front of the Raft loop. Runs when the request message has arrived, so streams reset
/// before (rapid reset) or still uploading never take a slot, and after the caller was
/// authenticated (the caller is the principal, else the remote address:
/// <see cref="RateLimitInterceptor.ClientKey"/>), so rotating claimed user names gains no share.
/// </summary>
internal sealed class AdmissionInterceptor(ClientAdmission admission) : CallInterceptor
{
    protected override async Task<T> InterceptAsync<T>(ServerCallContext context, Func<Task<T>> continuation)
    {
        var caller = RateLimitInterceptor.ClientKey(context);
        admission.EnterCall(caller);
        try
        {
            return await continuation().ConfigureAwait(false);
        }
        finally
        {
            admission.ExitCall(caller);
        }
    }
}
