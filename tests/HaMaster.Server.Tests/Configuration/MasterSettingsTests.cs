using HaMaster.Server.Configuration;

namespace HaMaster.Server.Tests.Configuration;

/// <summary>Every setting is declared once (<see cref="MasterSettings"/>): the flags, --help and README follow from it.</summary>
public sealed class MasterSettingsTests
{
    [Fact]
    public void Keys_and_flags_are_unique()
    {
        var keys = MasterSettings.All.Select(s => s.Key.ToUpperInvariant()).ToList();
        Assert.Equal(keys.Count, keys.Distinct().Count());
        var flags = MasterSettings.All.Where(s => s.Flag is not null).Select(s => s.Flag!).ToList();
        Assert.Equal(flags.Count, flags.Distinct().Count());
    }

    [Theory]
    [InlineData("--no-such-option", "1")]
    [InlineData("--NodeIdd", "1")]
    public void An_unknown_option_is_refused_naming_it(string flag, string value)
    {
        var e = Assert.Throws<ArgumentException>(() => MasterConfiguration.Load(["--id", "1", flag, value]));
        Assert.Contains(flag, e.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("--bogus")]
    [InlineData("-x")]
    public void An_unknown_flag_without_a_value_is_refused_naming_it(string flag)
    {
        // Last on the line, and before another flag: the command-line provider would drop both silently.
        var last = Assert.Throws<ArgumentException>(() => MasterConfiguration.Load(["--id", "1", flag]));
        Assert.Contains(flag, last.Message, StringComparison.Ordinal);
        var middle = Assert.Throws<ArgumentException>(() => MasterConfiguration.Load(["--id", "1", flag, "--data-dir", "d"]));
        Assert.Contains(flag, middle.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_stray_word_and_a_flag_missing_its_value_are_refused()
    {
        var stray = Assert.Throws<ArgumentException>(() => MasterConfiguration.Load(["--id", "1", "2"]));
        Assert.Contains("'2'", stray.Message, StringComparison.Ordinal);
        var missing = Assert.Throws<ArgumentException>(() => MasterConfiguration.Load(["--id"]));
        Assert.Contains("--id needs a value", missing.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Values_may_start_with_a_dash_and_switches_may_stand_alone()
    {
        var o = MasterConfiguration.Load(["--web-port", "-1", "--join", "--id=3", "--EnforcePermissions", "true", "--OpenStatusApi"]);
        Assert.Equal(-1, o.WebPort);
        Assert.True(o.Join);
        Assert.Equal(3UL, o.NodeId);
        Assert.True(o.EnforcePermissions);
        Assert.True(o.OpenStatusApi);
    }

    [Fact]
    public void Help_lists_every_setting_with_its_flag_and_default()
    {
        var help = MasterConfiguration.Help();
        foreach (var setting in MasterSettings.All)
        {
            Assert.Contains(setting.Key, help, StringComparison.Ordinal);
            if (setting.Flag is { } flag)
            {
                Assert.Contains(flag + " ", help, StringComparison.Ordinal);
            }

            Assert.Contains("[default: " + setting.Default + "]", help, StringComparison.Ordinal);
        }
    }

    [Fact]
    public void The_readme_configuration_table_names_every_setting()
    {
        var readme = File.ReadAllText(Path.Combine(RepositoryRoot(), "README.md"));
        var start = readme.IndexOf("### Configuration", StringComparison.Ordinal);
        Assert.True(start >= 0, "README has no Configuration section");
        var end = readme.IndexOf("\n### ", start + 1, StringComparison.Ordinal);
        var section = readme[start..(end < 0 ? readme.Length : end)];
        var missing = MasterSettings.All.Where(s => !section.Contains("`" + s.Key + "`", StringComparison.Ordinal)).Select(s => s.Key).ToList();
        Assert.True(missing.Count == 0, "README's configuration table lacks: " + string.Join(", ", missing));
    }

    [Fact]
    public void Settings_that_had_no_way_in_can_be_set()
    {
        var o = MasterConfiguration.Load(["--LogSegmentBytes", "1048576", "--DefaultBlockSizeBytes", "4096", "--DefaultCallTimeoutMs", "1500", "--RateLimitBurst", "7.5", "--MaxStreamResetsPerSecond", "9"]);
        Assert.Equal(1048576, o.LogSegmentBytes);
        Assert.Equal(4096, o.DefaultBlockSizeBytes);
        Assert.Equal(TimeSpan.FromMilliseconds(1500), o.DefaultCallTimeout);
        Assert.Equal(7.5, o.RateLimitBurst);
        Assert.Equal(9, o.ConnectionLimits.MaxStreamResetsPerSecond);
    }

    private static string RepositoryRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "HaMaster.sln")))
            {
                return dir.FullName;
            }
        }

        throw new InvalidOperationException("HaMaster.sln not found above " + AppContext.BaseDirectory);
    }
}
