using System.Diagnostics;
using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;
using HaMaster.Server.Configuration;
using HaMaster.Server.Tests.Configuration;

namespace HaMaster.Server.Tests.Deployment;

/// <summary>Locates and reads the deployment files, and asks <see cref="MasterConfiguration"/> what it makes of their settings.</summary>
internal static partial class DeploymentFiles
{
    public static string Root { get; } = FindRoot();

    private static string FindRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "HaMaster.sln"))) return dir.FullName;
        }

        throw new InvalidOperationException($"no HaMaster.sln above {AppContext.BaseDirectory}");
    }

    public static string PathOf(string relative) => Path.Combine(Root, relative);

    public static string Text(string relative) => File.ReadAllText(PathOf(relative));

    /// <summary>Every YAML document of a file, parsed by Debian's python3-yaml (safe_load_all, which resolves anchors and merge keys).</summary>
    public static IReadOnlyList<JsonElement> Yaml(string relative)
    {
        const string python = "/usr/bin/python3";
        if (!File.Exists(python)) Assert.Fail($"{python} is missing: run scripts/setup.sh (it installs python3-yaml)");
        var start = new ProcessStartInfo(python)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        start.ArgumentList.Add("-c");
        start.ArgumentList.Add("import sys,yaml,json; json.dump(list(yaml.safe_load_all(open(sys.argv[1]))), sys.stdout)");
        start.ArgumentList.Add(PathOf(relative));
        var (code, stdout, stderr) = Run(start);
        if (stderr.Contains("No module named 'yaml'", StringComparison.Ordinal)) Assert.Fail("python3-yaml is missing: run scripts/setup.sh");
        Assert.True(code == 0, $"{relative} is not valid YAML: {stderr}");
        using var doc = JsonDocument.Parse(stdout);
        return doc.RootElement.EnumerateArray().Where(e => e.ValueKind != JsonValueKind.Null).Select(e => e.Clone()).ToList();
    }

    /// <summary>Runs a process to completion (bounded: 30 s) and returns its exit code and output.</summary>
    public static (int Code, string Stdout, string Stderr) Run(ProcessStartInfo start)
    {
        using var process = Process.Start(start) ?? throw new InvalidOperationException($"cannot start {start.FileName}");
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        if (!process.WaitForExit(30_000))
        {
            process.Kill(entireProcessTree: true);
            Assert.Fail($"{start.FileName} did not finish within 30 s");
        }

        process.WaitForExit();
        return (process.ExitCode, stdout.Result, stderr.Result);
    }

    [GeneratedRegex(@"\bHAMASTER_([A-Za-z0-9_]+)")]
    private static partial Regex VariableName();

    /// <summary>Every HAMASTER_&lt;Key&gt; named anywhere in the text (settings, scripts and comments alike).</summary>
    public static IReadOnlySet<string> VariablesMentioned(string text) =>
        VariableName().Matches(text).Select(m => m.Groups[1].Value).ToHashSet(StringComparer.Ordinal);

    /// <summary>Loads options as the server would with exactly these HAMASTER_ variables set (and no flags).</summary>
    public static MasterOptions LoadWith(IReadOnlyDictionary<string, string> variables)
    {
        using var env = new EnvironmentScope();
        foreach (var (name, value) in variables) env.Set(name, value);
        return MasterConfiguration.Load([]);
    }

    /// <summary>
    /// Whether <see cref="MasterConfiguration"/> reads HAMASTER_<paramref name="key"/>: some probe
    /// value either changes the resulting options or is refused with a message naming the key.
    /// </summary>
    public static bool IsReadKey(string key)
    {
        var baseline = Describe(MasterConfiguration.Load([]));
        foreach (var probe in (string[])["7", "true", "Heap", "1=probe:1/probe:2/probe:3", "probe-value"])
        {
            try
            {
                if (Describe(LoadWith(new Dictionary<string, string> { ["HAMASTER_" + key] = probe })) != baseline) return true;
            }
            catch (Exception e) when (e is ArgumentException or FormatException && e.Message.Contains(key, StringComparison.OrdinalIgnoreCase))
            {
                return true;
            }
            catch (FormatException)
            {
                // A value the key's parser refused without naming it (member lists): try the next probe.
            }
        }

        return false;
    }

    /// <summary>Every public property of the options as text (lists element by element), for comparison.</summary>
    public static string Describe(MasterOptions options)
    {
        var text = new StringBuilder();
        foreach (var p in typeof(MasterOptions).GetProperties().OrderBy(p => p.Name, StringComparer.Ordinal))
        {
            var value = p.GetValue(options);
            text.Append(p.Name).Append('=').Append(value is System.Collections.IEnumerable list and not string
                ? string.Join(",", list.Cast<object>())
                : Convert.ToString(value, System.Globalization.CultureInfo.InvariantCulture)).Append('\n');
        }

        return text.ToString();
    }

    public static (string Host, int Port) HostPort(string address)
    {
        var colon = address.LastIndexOf(':');
        return (address[..colon], int.Parse(address[(colon + 1)..], System.Globalization.CultureInfo.InvariantCulture));
    }

    /// <summary>A string, or a number written without quotes, as text.</summary>
    public static string Scalar(JsonElement e) => e.ValueKind == JsonValueKind.String ? e.GetString()! : e.GetRawText();

    public static JsonElement? Prop(this JsonElement e, string name) =>
        e.ValueKind == JsonValueKind.Object && e.TryGetProperty(name, out var v) ? v : null;

    public static JsonElement Req(this JsonElement e, string name, string where) =>
        e.Prop(name) ?? throw new Xunit.Sdk.XunitException($"{where}: missing '{name}'");
}
