namespace HaMaster.Metadata;

/// <summary>The reason a path is rejected (<see cref="PathProblem.None"/> when it is valid).</summary>
public enum PathProblem
{
    None,
    Empty,
    NotAbsolute,
    TooLong,
    NulCharacter,
    InvalidUtf8,
    TrailingSlash,
    EmptyComponent,
    DotComponent,
    ComponentTooLong,
    TooDeep,
}

/// <summary>
/// Validates file-system paths: absolute, normalized, valid UTF-8 (no unpaired surrogates), no empty,
/// "." or ".." components, no NUL, components of at most <see cref="MaxComponentBytes"/> UTF-8 bytes,
/// at most <see cref="MaxDepth"/> components and <see cref="MaxPathBytes"/> UTF-8 bytes in total.
/// The server calls it to reject requests early; the state machine calls it again at apply time.
/// </summary>
/// <remarks>Pure and thread-safe; <see cref="Check"/> allocates nothing.</remarks>
public static class PathValidator
{
    /// <summary>Maximum UTF-8 bytes of one path component (POSIX NAME_MAX).</summary>
    public const int MaxComponentBytes = 255;

    /// <summary>Maximum number of components below the root.</summary>
    public const int MaxDepth = 256;

    /// <summary>Maximum UTF-8 bytes of a whole path (POSIX PATH_MAX).</summary>
    public const int MaxPathBytes = 4096;

    /// <summary>Classifies <paramref name="path"/>; the first problem found wins (checked left to right).</summary>
    public static PathProblem Check(ReadOnlySpan<char> path)
    {
        if (path.IsEmpty)
        {
            return PathProblem.Empty;
        }

        if (path[0] != '/')
        {
            return PathProblem.NotAbsolute;
        }

        if (path.Length == 1)
        {
            return PathProblem.None;
        }

        var totalBytes = 1;
        var depth = 0;
        var componentStart = 1;
        var componentBytes = 0;
        for (var i = 1; i <= path.Length; i++)
        {
            if (i == path.Length || path[i] == '/')
            {
                var component = path[componentStart..i];
                if (component.IsEmpty)
                {
                    return i == path.Length ? PathProblem.TrailingSlash : PathProblem.EmptyComponent;
                }

                if (component is "." or "..")
                {
                    return PathProblem.DotComponent;
                }

                if (componentBytes > MaxComponentBytes)
                {
                    return PathProblem.ComponentTooLong;
                }

                if (++depth > MaxDepth)
                {
                    return PathProblem.TooDeep;
                }

                if (i < path.Length)
                {
                    totalBytes++;
                }

                componentStart = i + 1;
                componentBytes = 0;
                continue;
            }

            var c = path[i];
            int bytes;
            if (c == '\0')
            {
                return PathProblem.NulCharacter;
            }
            else if (c < 0x80)
            {
                bytes = 1;
            }
            else if (c < 0x800)
            {
                bytes = 2;
            }
            else if (char.IsHighSurrogate(c))
            {
                if (i + 1 >= path.Length || !char.IsLowSurrogate(path[i + 1]))
                {
                    return PathProblem.InvalidUtf8;
                }

                i++;
                bytes = 4;
            }
            else if (char.IsLowSurrogate(c))
            {
                return PathProblem.InvalidUtf8;
            }
            else
            {
                bytes = 3;
            }

            componentBytes += bytes;
            totalBytes += bytes;
            if (totalBytes > MaxPathBytes)
            {
                return PathProblem.TooLong;
            }
        }

        return PathProblem.None;
    }

    /// <summary>Returns null for a valid path, otherwise the exact INVALID_ARGUMENT message.</summary>
    public static string? Validate(string? path)
    {
        var problem = Check(path);
        return problem == PathProblem.None ? null : Describe(problem, path);
    }

    /// <summary>The message for <paramref name="problem"/>. Paths that are too long, hold NUL or bad
    /// UTF-16 are not echoed (they would make the message itself a problem).</summary>
    public static string Describe(PathProblem problem, string? path) => problem switch
    {
        PathProblem.None => string.Empty,
        PathProblem.Empty => "path is empty",
        PathProblem.NotAbsolute => $"{path}: path must be absolute (start with '/')",
        PathProblem.TooLong => $"path exceeds {MaxPathBytes} bytes",
        PathProblem.NulCharacter => "path contains a NUL character",
        PathProblem.InvalidUtf8 => "path is not valid UTF-8 (unpaired surrogate)",
        PathProblem.TrailingSlash => $"{path}: path must not end with '/'",
        PathProblem.EmptyComponent => $"{path}: path contains an empty component ('//')",
        PathProblem.DotComponent => $"{path}: path contains a '.' or '..' component",
        PathProblem.ComponentTooLong => $"{path}: a component exceeds {MaxComponentBytes} bytes",
        PathProblem.TooDeep => $"path exceeds the maximum depth of {MaxDepth} components",
        _ => throw new ArgumentOutOfRangeException(nameof(problem)),
    };

    /// <summary>Splits a valid path into its components ("/" has none).</summary>
    internal static string[] Split(string path) => path.Length == 1 ? [] : path[1..].Split('/');

    /// <summary>The path of the first <paramref name="count"/> components.</summary>
    internal static string Prefix(string[] components, int count) =>
        count == 0 ? "/" : "/" + string.Join('/', components, 0, count);

    /// <summary>Joins a directory path and a child name.</summary>
    internal static string Child(string directory, string name) => directory.Length == 1 ? "/" + name : directory + "/" + name;
}
