using System.Diagnostics;
using Grpc.Core;
using HaMaster.Protos.V1;

namespace HaMaster.Server.Services.MetadataSync;

/// <summary>One sync call's mount, cancellation and counters (updated by concurrent workers).</summary>
internal sealed class SyncRun(MountPointRecord mount, ServerCallContext context, Observability.MasterMetrics? metrics, CancellationToken token)
{
    private readonly Lock _lock = new();
    private readonly SyncMetadataResponse _response = new();

    public MountPointRecord Mount { get; } = mount;
    public ServerCallContext Context { get; } = context;
    public CancellationToken Token { get; } = token;
    public Stopwatch Elapsed { get; } = Stopwatch.StartNew();

    public SyncMetadataResponse Response
    {
        get
        {
            lock (_lock) return _response.Clone();
        }
    }

    public void Compared(int entries)
    {
        lock (_lock) _response.EntriesCompared += (ulong)entries;
        metrics?.SyncProgress(0, entries);
    }

    public void Directory()
    {
        lock (_lock) _response.Directories++;
        metrics?.SyncProgress(1, 0);
    }

    public void Applied(SyncCounts? counts)
    {
        lock (_lock)
        {
            _response.LogEntries++;
            if (counts is null) return;
            _response.Created += counts.Created;
            _response.Updated += counts.Updated;
            _response.Deleted += counts.Deleted;
        }
    }
}
