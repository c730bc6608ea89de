using Grpc.Core;
using HaMaster.Server.Hosting;

namespace HaMaster.Server.Services;

/// <summary>
/// Counts the client port's calls in their handlers against
/// <see cref="GrpcPortLimits.MaxCallsInProgress"/> (<see cref="ClientAdmission.EnterCall"/>):
/// one over the limit is answered RESOURCE_EXHAUSTED at once instead of queueing in front of the
/// Raft loop. Runs when the request message has arrived, so streams reset before (rapid reset)
/// or still uploading never take a slot.
/// </summary>
internal sealed class AdmissionInterceptor(ClientAdmission admission) : CallInterceptor
{
    protected override async Task<T> InterceptAsync<T>(ServerCallContext context, Func<Task<T>> continuation)
    {
        admission.EnterCall();
        try
        {
            return await continuation().ConfigureAwait(false);
        }
        finally
        {
            admission.ExitCall();
        }
    }
}
