using HaMaster.Chaos.Core.Files;
using HaMaster.Chaos.Core.Processes;

namespace HaMaster.Chaos.Core.Tests;

public sealed class EventuallyTests
{
    [Fact]
    public async Task Returns_the_first_value_and_treats_exceptions_as_not_yet()
    {
        var calls = 0;
        var value = await Eventually.ValueAsync("the third probe", () =>
        {
            calls++;
            return calls switch
            {
                1 => throw new InvalidOperationException("not up yet"),
                2 => Task.FromResult<string?>(null),
                _ => Task.FromResult<string?>("ready"),
            };
        }, TimeSpan.FromSeconds(30));

        Assert.Equal("ready", value);
        Assert.Equal(3, calls);
    }

    [Fact]
    public async Task Times_out_naming_what_it_waited_for_the_last_observation_and_the_diagnostics()
    {
        var e = await Assert.ThrowsAsync<TimeoutException>(() => Eventually.TrueAsync(
            "a condition that never holds",
            () => throw new IOException("connection refused"),
            TimeSpan.FromMilliseconds(200),
            () => "master 2: last log line"));

        Assert.Contains("a condition that never holds", e.Message, StringComparison.Ordinal);
        Assert.Contains("IOException: connection refused", e.Message, StringComparison.Ordinal);
        Assert.Contains("master 2: last log line", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_temp_directory_exists_until_disposed_with_its_contents()
    {
        string path;
        using (var dir = new TempDirectory())
        {
            path = dir.Path;
            File.WriteAllText(dir.Sub("file"), "x");
            Assert.True(File.Exists(Path.Combine(path, "file")));
        }

        Assert.False(Directory.Exists(path));
    }
}
