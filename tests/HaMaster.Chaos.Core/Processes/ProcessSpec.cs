namespace HaMaster.Chaos.Core.Processes;

/// <summary>
/// What to start. <see cref="Environment"/> entries are added to (null values removed from)
/// the inherited environment. <see cref="LogPath"/> receives every stdout/stderr line
/// (stderr prefixed "[err] "); <see cref="RecentLines"/> bounds the in-memory ring buffer (default 2000 lines).
/// </summary>
public sealed record ProcessSpec(
    string FileName,
    IReadOnlyList<string> Arguments,
    string LogPath,
    IReadOnlyDictionary<string, string?>? Environment = null,
    string? WorkingDirectory = null,
    int RecentLines = 2000)
{
    public ProcessSpec Validate()
    {
        ArgumentException.ThrowIfNullOrEmpty(FileName);
        ArgumentNullException.ThrowIfNull(Arguments);
        ArgumentException.ThrowIfNullOrEmpty(LogPath);
        ArgumentOutOfRangeException.ThrowIfLessThan(RecentLines, 1);
        return this;
    }
}
