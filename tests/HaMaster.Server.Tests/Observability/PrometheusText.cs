using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;

namespace HaMaster.Server.Tests.Observability;

/// <summary>One sample line of the Prometheus text format.</summary>
internal sealed record PrometheusSample(string Name, IReadOnlyDictionary<string, string> Labels, double Value)
{
    public string? Label(string key) => Labels.TryGetValue(key, out var v) ? v : null;
}

/// <summary>
/// A strict reader of the Prometheus text exposition format 0.0.4, enough to reject what a
/// Prometheus server would reject: it checks comment lines, metric and label names, label value
/// escapes, sample values, one TYPE per family declared before its samples, samples belonging to
/// their family (histograms: _bucket with le, _sum, _count), no duplicate series, and cumulative
/// histogram buckets ending in +Inf equal to _count. Throws <see cref="FormatException"/> naming the line.
/// </summary>
internal static partial class PrometheusText
{
    [GeneratedRegex("^[a-zA-Z_:][a-zA-Z0-9_:]*$")]
    private static partial Regex MetricName();

    [GeneratedRegex("^[a-zA-Z_][a-zA-Z0-9_]*$")]
    private static partial Regex LabelName();

    public static IReadOnlyList<PrometheusSample> Parse(string text)
    {
        var samples = new List<PrometheusSample>();
        var types = new Dictionary<string, string>(StringComparer.Ordinal);
        var helps = new HashSet<string>(StringComparer.Ordinal);
        var series = new HashSet<string>(StringComparer.Ordinal);
        if (text.Length > 0 && !text.EndsWith('\n')) throw new FormatException("the exposition must end with a newline");
        var lines = text.Split('\n');
        for (var n = 0; n < lines.Length - 1; n++)
        {
            var line = lines[n];
            var where = $"line {n + 1} \"{line}\"";
            if (line.Length == 0) continue;
            if (line.StartsWith('#'))
            {
                var parts = line.Split(' ', 4);
                if (parts.Length >= 3 && parts[1] == "HELP")
                {
                    if (!MetricName().IsMatch(parts[2])) throw new FormatException($"{where}: bad metric name in HELP");
                    if (!helps.Add(parts[2])) throw new FormatException($"{where}: second HELP for {parts[2]}");
                }
                else if (parts.Length >= 3 && parts[1] == "TYPE")
                {
                    if (parts.Length != 4 || !MetricName().IsMatch(parts[2])) throw new FormatException($"{where}: malformed TYPE");
                    if (parts[3] is not ("counter" or "gauge" or "histogram" or "summary" or "untyped")) throw new FormatException($"{where}: unknown type {parts[3]}");
                    if (types.ContainsKey(parts[2])) throw new FormatException($"{where}: second TYPE for {parts[2]}");
                    if (samples.Any(s => Family(s.Name, types) == parts[2] || s.Name == parts[2])) throw new FormatException($"{where}: TYPE after samples of {parts[2]}");
                    types[parts[2]] = parts[3];
                }

                continue;
            }

            var sample = ParseSample(line, where);
            var family = Family(sample.Name, types) ?? throw new FormatException($"{where}: sample of {sample.Name} without a TYPE line");
            if (types[family] == "histogram")
            {
                if (sample.Name == family + "_bucket" && sample.Label("le") is null) throw new FormatException($"{where}: bucket without le");
                if (sample.Name == family) throw new FormatException($"{where}: bare sample of histogram {family}");
            }
            else if (sample.Name != family)
            {
                throw new FormatException($"{where}: {sample.Name} does not belong to {types[family]} {family}");
            }

            var key = sample.Name + "{" + string.Join(",", sample.Labels.OrderBy(l => l.Key, StringComparer.Ordinal).Select(l => l.Key + "=" + l.Value)) + "}";
            if (!series.Add(key)) throw new FormatException($"{where}: duplicate series {key}");
            samples.Add(sample);
        }

        CheckHistograms(samples, types);
        return samples;
    }

    private static string? Family(string sampleName, Dictionary<string, string> types)
    {
        if (types.ContainsKey(sampleName)) return sampleName;
        foreach (var suffix in (string[])["_bucket", "_sum", "_count"])
        {
            if (sampleName.EndsWith(suffix, StringComparison.Ordinal))
            {
                var family = sampleName[..^suffix.Length];
                if (types.TryGetValue(family, out var type) && type is "histogram" or "summary") return family;
            }
        }

        return null;
    }

    private static PrometheusSample ParseSample(string line, string where)
    {
        var i = 0;
        while (i < line.Length && line[i] != '{' && line[i] != ' ') i++;
        var name = line[..i];
        if (!MetricName().IsMatch(name)) throw new FormatException($"{where}: bad metric name '{name}'");
        var labels = new Dictionary<string, string>(StringComparer.Ordinal);
        if (i < line.Length && line[i] == '{')
        {
            i++;
            while (true)
            {
                if (i < line.Length && line[i] == '}')
                {
                    i++;
                    break;
                }

                var eq = line.IndexOf('=', i);
                if (eq < 0) throw new FormatException($"{where}: label without '='");
                var labelName = line[i..eq];
                if (!LabelName().IsMatch(labelName)) throw new FormatException($"{where}: bad label name '{labelName}'");
                i = eq + 1;
                if (i >= line.Length || line[i] != '"') throw new FormatException($"{where}: label value not quoted");
                i++;
                var value = new StringBuilder();
                while (true)
                {
                    if (i >= line.Length) throw new FormatException($"{where}: unterminated label value");
                    var c = line[i++];
                    if (c == '"') break;
                    if (c == '\\')
                    {
                        if (i >= line.Length) throw new FormatException($"{where}: dangling escape");
                        value.Append(line[i++] switch
                        {
                            '\\' => '\\',
                            '"' => '"',
                            'n' => '\n',
                            var other => throw new FormatException($"{where}: invalid escape \\{other}"),
                        });
                    }
                    else
                    {
                        value.Append(c);
                    }
                }

                if (!labels.TryAdd(labelName, value.ToString())) throw new FormatException($"{where}: label {labelName} twice");
                if (i < line.Length && line[i] == ',') i++;
                else if (i >= line.Length || line[i] != '}') throw new FormatException($"{where}: expected ',' or '}}' after a label");
            }
        }

        if (i >= line.Length || line[i] != ' ') throw new FormatException($"{where}: expected a space before the value");
        var rest = line[(i + 1)..].Split(' ');
        if (rest.Length is < 1 or > 2) throw new FormatException($"{where}: expected 'value [timestamp]'");
        return new PrometheusSample(name, labels, ParseValue(rest[0], where));
    }

    public static double ParseValue(string text, string where = "value") => text switch
    {
        "+Inf" => double.PositiveInfinity,
        "-Inf" => double.NegativeInfinity,
        "NaN" => double.NaN,
        _ when text.Length > 0 && (char.IsAsciiDigit(text[0]) || text[0] is '-' or '+' or '.')
            && double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var v) && double.IsFinite(v) => v,
        _ => throw new FormatException($"{where}: '{text}' is not a Prometheus sample value"),
    };

    private static void CheckHistograms(List<PrometheusSample> samples, Dictionary<string, string> types)
    {
        foreach (var (family, _) in types.Where(t => t.Value == "histogram"))
        {
            var buckets = samples.Where(s => s.Name == family + "_bucket")
                .GroupBy(s => string.Join(",", s.Labels.Where(l => l.Key != "le").OrderBy(l => l.Key, StringComparer.Ordinal).Select(l => l.Key + "=" + l.Value)));
            foreach (var group in buckets)
            {
                var ordered = group.ToList();
                var les = ordered.Select(s => ParseValue(s.Label("le")!, $"{family} le")).ToList();
                for (var k = 1; k < ordered.Count; k++)
                {
                    if (!(les[k] > les[k - 1])) throw new FormatException($"{family}{{{group.Key}}}: bucket bounds not increasing");
                    if (ordered[k].Value < ordered[k - 1].Value) throw new FormatException($"{family}{{{group.Key}}}: buckets not cumulative");
                }

                if (!double.IsPositiveInfinity(les[^1])) throw new FormatException($"{family}{{{group.Key}}}: no +Inf bucket");
                var count = samples.SingleOrDefault(s => s.Name == family + "_count" && SameLabels(s, ordered[^1]))
                    ?? throw new FormatException($"{family}{{{group.Key}}}: no _count");
                if (count.Value != ordered[^1].Value) throw new FormatException($"{family}{{{group.Key}}}: +Inf bucket {ordered[^1].Value} != _count {count.Value}");
                _ = samples.SingleOrDefault(s => s.Name == family + "_sum" && SameLabels(s, ordered[^1])) ?? throw new FormatException($"{family}{{{group.Key}}}: no _sum");
            }
        }
    }

    private static bool SameLabels(PrometheusSample a, PrometheusSample bucket) =>
        a.Labels.Count == bucket.Labels.Count - 1 && a.Labels.All(l => bucket.Labels.TryGetValue(l.Key, out var v) && v == l.Value);
}
