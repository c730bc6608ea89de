using Grpc.Core;
using HaMaster.Server.Peers;

namespace HaMaster.Server.Tests.Peers;

/// <summary>A stalled stream write is cancelled at the limit; the writes after it get a fresh, uncancelled deadline.</summary>
public sealed class WriteDeadlineTests
{
    [Fact]
    public async Task A_stalled_write_is_cancelled_and_the_next_write_runs_with_a_fresh_deadline()
    {
        using var deadline = new WriteDeadline(TimeSpan.FromMilliseconds(100));
        var writer = new ScriptedWriter();

        writer.Stall = true;
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => deadline.WriteAsync(writer, 1).WaitAsync(TimeSpan.FromSeconds(10)));

        writer.Stall = false;
        for (var i = 2; i <= 4; i++) await deadline.WriteAsync(writer, i).WaitAsync(TimeSpan.FromSeconds(10));
        Assert.Equal([2, 3, 4], writer.Written);
        Assert.All(writer.TokensCancelledAtWrite, Assert.False);
    }

    private sealed class ScriptedWriter : IAsyncStreamWriter<int>
    {
        public bool Stall { get; set; }

        public List<int> Written { get; } = [];

        public List<bool> TokensCancelledAtWrite { get; } = [];

        public WriteOptions? WriteOptions { get; set; }

        public Task WriteAsync(int message) => WriteAsync(message, CancellationToken.None);

        public async Task WriteAsync(int message, CancellationToken cancellationToken)
        {
            if (Stall)
            {
                await Task.Delay(Timeout.Infinite, cancellationToken);
                return;
            }

            TokensCancelledAtWrite.Add(cancellationToken.IsCancellationRequested);
            Written.Add(message);
        }
    }
}
