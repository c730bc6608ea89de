namespace HaMaster.Chaos.Core.Network;

/// <summary>Which way bytes flow through a proxied connection.</summary>
public enum FlowDirection
{
    /// <summary>From the connecting side (the client) to the proxy's target.</summary>
    ClientToTarget,

    /// <summary>From the target back to the connecting side.</summary>
    TargetToClient,
}

/// <summary>A snapshot of the faults applied to one direction of a proxy.</summary>
/// <param name="Blackholed">Bytes are held (not forwarded, not dropped) until the blackhole is lifted.</param>
/// <param name="Latency">Added one-way delay per chunk.</param>
/// <param name="Jitter">Extra uniformly random delay in [0, Jitter) per chunk (seeded); stream order is kept.</param>
public readonly record struct FlowFaults(bool Blackholed, TimeSpan Latency, TimeSpan Jitter)
{
    public static FlowFaults None => default;
}

/// <summary>
/// The run-time fault state of one direction, shared by every connection of a proxy.
/// Thread-safe: setters come from the test thread, readers are the connection pumps.
/// </summary>
internal sealed class FlowControl(int seed)
{
    private readonly Lock _lock = new();
    private readonly Random _random = new(seed);
    private FlowFaults _faults;
    private TaskCompletionSource _opened = NewSignal();

    public FlowFaults Faults
    {
        get
        {
            lock (_lock)
            {
                return _faults;
            }
        }
    }

    public void SetBlackhole(bool on)
    {
        lock (_lock)
        {
            if (_faults.Blackholed == on)
            {
                return;
            }

            _faults = _faults with { Blackholed = on };
            if (!on)
            {
                _opened.TrySetResult();
                _opened = NewSignal();
            }
        }
    }

    public void SetDelay(TimeSpan latency, TimeSpan jitter)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(latency, TimeSpan.Zero);
        ArgumentOutOfRangeException.ThrowIfLessThan(jitter, TimeSpan.Zero);
        lock (_lock)
        {
            _faults = _faults with { Latency = latency, Jitter = jitter };
        }
    }

    /// <summary>The delay for a chunk read now.</summary>
    public TimeSpan SampleDelay()
    {
        lock (_lock)
        {
            return _faults.Jitter == TimeSpan.Zero
                ? _faults.Latency
                : _faults.Latency + TimeSpan.FromTicks((long)(_faults.Jitter.Ticks * _random.NextDouble()));
        }
    }

    /// <summary>Completes when the direction is not blackholed.</summary>
    public async ValueTask WaitPassableAsync(CancellationToken cancellationToken)
    {
        while (true)
        {
            Task opened;
            lock (_lock)
            {
                if (!_faults.Blackholed)
                {
                    return;
                }

                opened = _opened.Task;
            }

            await opened.WaitAsync(cancellationToken);
        }
    }

    private static TaskCompletionSource NewSignal() => new(TaskCreationOptions.RunContinuationsAsynchronously);
}
