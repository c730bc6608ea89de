using System.Text.Json;

namespace HaMaster.Server.Services;

/// <summary>
/// Groups of authenticated users, read once at start from <c>--group-mapping</c>: either lines
/// <c>user: group1,group2</c> ('#' starts a comment; the first group is the primary group) or a
/// JSON object <c>{"user": ["group1", "group2"]}</c>. A user not listed has one group named like
/// the user (the POSIX user-private-group convention). Immutable, thread-safe.
/// </summary>
internal sealed class GroupMapping
{
    private readonly Dictionary<string, string[]> _groups;

    private GroupMapping(Dictionary<string, string[]> groups) => _groups = groups;

    public static GroupMapping Empty { get; } = new(new Dictionary<string, string[]>(StringComparer.Ordinal));

    public int Count => _groups.Count;

    /// <summary>The user's groups from the mapping, or null when the user is not listed.</summary>
    public IReadOnlyList<string>? Find(string user) => _groups.TryGetValue(user, out var groups) ? groups : null;

    /// <summary>The listed groups, or the user's own group when not listed.</summary>
    public IReadOnlyList<string> GroupsOf(string user) => Find(user) ?? [user];

    /// <summary>Reads a mapping file; throws <see cref="ArgumentException"/> naming the file and line of a mistake.</summary>
    public static GroupMapping Load(string? path) => path is null ? Empty : Parse(File.ReadAllText(path), path);

    public static GroupMapping Parse(string text, string source)
    {
        var groups = new Dictionary<string, string[]>(StringComparer.Ordinal);
        if (text.TrimStart().StartsWith('{'))
        {
            ParseJson(text, source, groups);
        }
        else
        {
            ParseLines(text, source, groups);
        }

        return new GroupMapping(groups);
    }

    private static void ParseLines(string text, string source, Dictionary<string, string[]> groups)
    {
        var lines = text.Split('\n');
        for (var i = 0; i < lines.Length; i++)
        {
            var line = lines[i];
            var hash = line.IndexOf('#', StringComparison.Ordinal);
            if (hash >= 0) line = line[..hash];
            line = line.Trim();
            if (line.Length == 0) continue;
            var colon = line.IndexOf(':', StringComparison.Ordinal);
            var user = colon > 0 ? line[..colon].Trim() : "";
            if (user.Length == 0)
            {
                throw new ArgumentException($"group mapping {source} line {i + 1}: expected 'user: group1,group2'");
            }

            var list = line[(colon + 1)..].Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
            Add(groups, user, list, source, $"line {i + 1}");
        }
    }

    private static void ParseJson(string text, string source, Dictionary<string, string[]> groups)
    {
        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(text, new JsonDocumentOptions { CommentHandling = JsonCommentHandling.Skip, AllowTrailingCommas = true });
        }
        catch (JsonException e)
        {
            throw new ArgumentException($"group mapping {source}: not valid JSON (line {e.LineNumber + 1}): expected {{\"user\": [\"group\", ...]}}");
        }

        using (document)
        {
            if (document.RootElement.ValueKind != JsonValueKind.Object)
            {
                throw new ArgumentException($"group mapping {source}: expected a JSON object {{\"user\": [\"group\", ...]}}");
            }

            foreach (var user in document.RootElement.EnumerateObject())
            {
                if (user.Value.ValueKind != JsonValueKind.Array || user.Value.EnumerateArray().Any(g => g.ValueKind != JsonValueKind.String))
                {
                    throw new ArgumentException($"group mapping {source}: user '{user.Name}' must map to an array of group names");
                }

                Add(groups, user.Name, user.Value.EnumerateArray().Select(g => g.GetString()!.Trim()).Where(g => g.Length > 0).ToArray(), source, $"user '{user.Name}'");
            }
        }
    }

    private static void Add(Dictionary<string, string[]> groups, string user, string[] list, string source, string where)
    {
        if (list.Length == 0) throw new ArgumentException($"group mapping {source} {where}: user '{user}' has no groups");
        if (!groups.TryAdd(user, list.Distinct(StringComparer.Ordinal).ToArray()))
        {
            throw new ArgumentException($"group mapping {source} {where}: user '{user}' is listed twice");
        }
    }
}
