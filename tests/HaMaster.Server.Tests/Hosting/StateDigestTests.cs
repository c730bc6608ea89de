using HaMaster.Metadata;
using HaMaster.Server.Hosting;

namespace HaMaster.Server.Tests.Hosting;

/// <summary>Issue 17: /api/digest's computation is single-flight and cached per applied index.</summary>
public sealed class StateDigestTests : IDisposable
{
    private readonly string _directory = Directory.CreateTempSubdirectory("hamaster-digest-").FullName;

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    [Fact]
    public async Task Concurrent_requests_share_one_computation_and_a_new_applied_index_computes_again()
    {
        using var machine = MetadataStateMachine.Open(_directory, new MetastoreOptions { Kind = MetastoreKind.Rocks });
        machine.ApplyNoop(5, 1);
        using var digest = new StateDigest(machine);

        var answers = await Task.WhenAll(Enumerable.Range(0, 16).Select(_ => Task.Run(() => digest.GetAsync(CancellationToken.None))));
        Assert.Equal(1, digest.Computations);
        Assert.All(answers, a => Assert.Equal((5UL, machine.Digest()), a));

        // Same applied index: the cached answer, no new scan.
        Assert.Equal(answers[0], await digest.GetAsync(CancellationToken.None));
        Assert.Equal(1, digest.Computations);

        machine.ApplyNoop(6, 1);
        var next = await digest.GetAsync(CancellationToken.None);
        Assert.Equal(6UL, next.AppliedIndex);
        Assert.Equal(2, digest.Computations);
    }

    [Fact]
    public async Task A_caller_cancelled_while_waiting_its_turn_does_not_break_the_next()
    {
        using var machine = MetadataStateMachine.Open(_directory, new MetastoreOptions { Kind = MetastoreKind.Rocks });
        machine.ApplyNoop(3, 1);
        using var digest = new StateDigest(machine);
        using var cancelled = new CancellationTokenSource();
        await cancelled.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => digest.GetAsync(cancelled.Token));
        Assert.Equal((3UL, machine.Digest()), await digest.GetAsync(CancellationToken.None));
    }
}
