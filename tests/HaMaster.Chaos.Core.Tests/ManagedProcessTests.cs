using HaMaster.Chaos.Core.Processes;

namespace HaMaster.Chaos.Core.Tests;

public sealed class ManagedProcessTests : IDisposable
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(10);
    private readonly string _dir = Path.Combine(Path.GetTempPath(), "chaos-core-tests-" + Guid.NewGuid().ToString("N"));

    public void Dispose()
    {
        if (Directory.Exists(_dir))
        {
            Directory.Delete(_dir, recursive: true);
        }
    }

    private ProcessSpec Spec(string file, params string[] args) => new(file, args, Path.Combine(_dir, "child.log"));

    [Fact]
    public async Task Captures_stdout_and_stderr_to_log_and_ring_and_reports_the_exit_code()
    {
        var spec = Spec("/bin/sh", "-c", "echo hello; echo oops 1>&2; echo \"$CHAOS_VAR\"; exit 3")
            with { Environment = new Dictionary<string, string?> { ["CHAOS_VAR"] = "from-env" } };
        await using var child = ManagedProcess.Start(spec);
        Assert.Equal("hello", await child.WaitForOutputLineAsync(l => l.StartsWith("hel", StringComparison.Ordinal), Patience));
        Assert.Equal(3, await child.WaitForExitAsync().AsTask().WaitAsync(Patience));
        Assert.Equal(3, child.ExitCode);
        var log = await File.ReadAllLinesAsync(child.LogPath);
        Assert.Contains("hello", log);
        Assert.Contains("[err] oops", log);
        Assert.Contains("from-env", child.RecentOutput());
    }

    [Fact]
    public async Task Ring_buffer_keeps_only_the_most_recent_lines()
    {
        await using var child = ManagedProcess.Start(Spec("/bin/sh", "-c", "for i in 1 2 3 4 5; do echo line$i; done") with { RecentLines = 2 });
        await child.WaitForExitAsync().AsTask().WaitAsync(Patience);
        Assert.Equal(["line4", "line5"], child.RecentOutput());
        Assert.Equal(5, (await File.ReadAllLinesAsync(child.LogPath)).Length);
    }

    [Fact]
    public async Task Waiting_for_a_line_fails_when_the_process_exits_without_it()
    {
        await using var child = ManagedProcess.Start(Spec("/bin/sh", "-c", "echo other"));
        await Assert.ThrowsAsync<InvalidOperationException>(async () =>
            await child.WaitForOutputLineAsync(l => l == "never", Patience));
    }

    [Fact]
    public async Task Waiting_for_a_line_times_out()
    {
        await using var child = ManagedProcess.Start(Spec("/bin/sleep", "30"));
        await Assert.ThrowsAsync<TimeoutException>(async () =>
            await child.WaitForOutputLineAsync(l => l == "never", TimeSpan.FromMilliseconds(100)));
    }

    [Fact]
    public async Task Pause_resume_and_kill_act_on_the_child_pid()
    {
        await using var child = ManagedProcess.Start(Spec("/bin/sleep", "30"));
        Assert.True(child.Pid > 0);
        Assert.False(child.HasExited);
        child.Pause();
        Assert.True(await Net.EventuallyAsync(() => child.IsStopped));
        child.Resume();
        Assert.True(await Net.EventuallyAsync(() => !child.IsStopped));
        child.Kill();
        var code = await child.WaitForExitAsync().AsTask().WaitAsync(Patience);
        Assert.Equal(137, code);
        Assert.True(child.HasExited);
        child.Kill();
    }

    [Fact]
    public void Spec_validates_itself()
    {
        Assert.Throws<ArgumentException>(() => new ProcessSpec("", [], "x.log").Validate());
        Assert.Throws<ArgumentOutOfRangeException>(() => new ProcessSpec("/bin/true", [], "x.log", RecentLines: 0).Validate());
    }
}
