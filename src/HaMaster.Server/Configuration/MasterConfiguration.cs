using System.Text;
using Microsoft.Extensions.Configuration;

namespace HaMaster.Server.Configuration;

/// <summary>
/// Builds <see cref="MasterOptions"/> from, in increasing precedence: <c>appsettings.json</c>
/// (section "HaMaster", in the working directory or next to the binary), environment variables
/// (<c>HAMASTER_NodeId</c>, <c>HAMASTER_DataDirectory</c>, ...) and command-line flags
/// (<c>--id 1 --data-dir d --members 1=h:p/h:p/h:p,...</c>, or any <c>--Key value</c>). Every
/// setting is declared once, in <see cref="MasterSettings"/>. An unknown key on the command line
/// or in appsettings.json is an error; an unknown <c>HAMASTER_</c> variable is a warning (the
/// environment is shared with the CLI), except upper-case names such as <c>HAMASTER_LOG_LEVEL</c>,
/// which belong to tools.
/// </summary>
public static class MasterConfiguration
{
    private static readonly Dictionary<string, MasterSetting> ByKey =
        MasterSettings.All.ToDictionary(s => s.Key, StringComparer.OrdinalIgnoreCase);

    private static readonly Dictionary<string, string> Flags =
        MasterSettings.All.Where(s => s.Flag is not null).ToDictionary(s => s.Flag!, s => s.Key, StringComparer.Ordinal);

    /// <summary>Loads the options; unknown environment variables are ignored.</summary>
    public static MasterOptions Load(string[] args) => Load(args, out _);

    /// <summary>
    /// Loads the options and returns in <paramref name="warnings"/> what an operator should see
    /// (unknown <c>HAMASTER_</c> variables). Throws <see cref="ArgumentException"/> naming a bad
    /// or unknown setting.
    /// </summary>
    public static MasterOptions Load(string[] args, out IReadOnlyList<string> warnings)
    {
        var found = new List<string>();
        var json = new ConfigurationBuilder()
            .AddJsonFile(Path.Combine(AppContext.BaseDirectory, "appsettings.json"), optional: true)
            .AddJsonFile("appsettings.json", optional: true)
            .Build()
            .GetSection("HaMaster");
        var environment = new ConfigurationBuilder().AddEnvironmentVariables("HAMASTER_").Build();
        CheckArguments(args);
        var commandLine = new ConfigurationBuilder().AddCommandLine(WithSwitchValues(args), Flags).Build();

        var options = new MasterOptions();
        options = Apply(options, Pairs(json, makePathsRelative: true), key => throw new ArgumentException($"appsettings.json: unknown setting HaMaster:{key} (hamaster-server --help lists them)"));
        options = Apply(options, Pairs(environment, makePathsRelative: false), key =>
        {
            if (!IsToolVariable(key))
            {
                found.Add($"ignored environment variable HAMASTER_{key}: no such setting (hamaster-server --help lists them)");
            }
        });
        options = Apply(options, Pairs(commandLine, makePathsRelative: false), key => throw new ArgumentException($"unknown option --{key} (hamaster-server --help lists them)"));

        if (options.ClusterSecretFile is { } file)
        {
            if (options.ClusterSecret is not null)
            {
                throw new ArgumentException("Set either ClusterSecret or ClusterSecretFile (--cluster-secret-file), not both.");
            }

            options = options with { ClusterSecret = MasterOptions.ReadClusterSecretFile(file) };
        }

        warnings = found;
        return options;
    }

    /// <summary>The text of <c>hamaster-server --help</c>, generated from <see cref="MasterSettings"/>.</summary>
    public static string Help()
    {
        var text = new StringBuilder();
        text.AppendLine("hamaster-server: one HaMaster master process.");
        text.AppendLine("Every setting is a flag or --Key value, a HAMASTER_<Key> variable or a key of appsettings.json");
        text.AppendLine("(section HaMaster); the command line wins over the environment, which wins over the file.");
        foreach (var setting in MasterSettings.All)
        {
            var name = setting.Flag is { } flag ? $"{flag} ({setting.Key})" : $"--{setting.Key}";
            text.Append("  ").Append(name.PadRight(52)).Append(' ').Append(setting.Help).Append(" [default: ").Append(setting.Default).AppendLine("]");
        }

        return text.ToString();
    }

    private static MasterOptions Apply(MasterOptions options, IEnumerable<KeyValuePair<string, string>> pairs, Action<string> unknown)
    {
        foreach (var (key, value) in pairs)
        {
            if (ByKey.TryGetValue(key, out var setting))
            {
                options = setting.Apply(options, value);
            }
            else
            {
                unknown(key);
            }
        }

        return options;
    }

    private static IEnumerable<KeyValuePair<string, string>> Pairs(IConfiguration configuration, bool makePathsRelative) =>
        configuration.AsEnumerable(makePathsRelative)
            .Where(kv => kv.Value is not null)
            .Select(kv => new KeyValuePair<string, string>(kv.Key, kv.Value!))
            .OrderBy(kv => kv.Key, StringComparer.Ordinal);

    /// <summary>Upper-case names with underscores (HAMASTER_LOG_LEVEL, HAMASTER_TOKEN) are variables of tools, not settings.</summary>
    private static bool IsToolVariable(string key) => key.Contains('_', StringComparison.Ordinal) || key.All(c => !char.IsLower(c));

    /// <summary>
    /// Refuses what the command-line provider would drop silently: an unknown flag with no value
    /// (last, or followed by another flag) and a stray word that belongs to no flag. Values may
    /// start with '-' (<c>--web-port -1</c>), so a word after a setting that takes a value is its value.
    /// </summary>
    private static void CheckArguments(string[] args)
    {
        for (var i = 0; i < args.Length; i++)
        {
            var arg = args[i];
            if (!arg.StartsWith('-'))
            {
                throw new ArgumentException($"unexpected argument '{arg}': every setting is a flag with a value (hamaster-server --help lists them)");
            }

            var eq = arg.IndexOf('=', StringComparison.Ordinal);
            var name = eq < 0 ? arg : arg[..eq];
            var setting = Flags.TryGetValue(name, out var key) ? ByKey[key]
                : name.StartsWith("--", StringComparison.Ordinal) && ByKey.TryGetValue(name[2..], out var byKey) ? byKey
                : throw new ArgumentException($"unknown option {name} (hamaster-server --help lists them)");
            if (eq >= 0) continue;
            var hasNext = i + 1 < args.Length;
            if (setting.IsSwitch)
            {
                // "--join --id 1" stands alone; "--join false" (or a bad "--join maybe") is its value.
                if (hasNext && !args[i + 1].StartsWith("--", StringComparison.Ordinal)) i++;
            }
            else if (hasNext)
            {
                i++;
            }
            else
            {
                throw new ArgumentException($"option {name} needs a value (hamaster-server --help lists them)");
            }
        }
    }

    /// <summary>Gives a stand-alone switch (<c>--join</c>) the value true, so the command-line provider accepts it.</summary>
    private static string[] WithSwitchValues(string[] args)
    {
        var switches = MasterSettings.All.Where(s => s.IsSwitch).SelectMany(s => new[] { s.Flag, "--" + s.Key }).OfType<string>().ToHashSet(StringComparer.OrdinalIgnoreCase);
        var normalized = new List<string>();
        for (var i = 0; i < args.Length; i++)
        {
            normalized.Add(args[i]);
            if (switches.Contains(args[i]) && (i + 1 == args.Length || args[i + 1].StartsWith("--", StringComparison.Ordinal)))
            {
                normalized.Add("true");
            }
        }

        return normalized.ToArray();
    }
}
