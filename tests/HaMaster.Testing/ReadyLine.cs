using System.Globalization;
using System.Net;

namespace HaMaster.Testing;

/// <summary>
/// The line <c>hamaster-server</c> prints once it serves (src/HaMaster.Server/Program.cs):
/// <c>HAMASTER READY id=1 client=127.0.0.1:40001 peer=127.0.0.1:40002 web=127.0.0.1:40003</c>
/// (<c>web=off</c> without a status page). The ports are the ones the server bound, so a master
/// started with port 0 tells the harness here where it listens. Parsed only here.
/// </summary>
public sealed record ReadyLine(ulong Id, IPEndPoint Client, IPEndPoint Peer, IPEndPoint? Web)
{
    public const string Prefix = "HAMASTER READY id=";

    public static bool IsReady(string line) => line.StartsWith(Prefix, StringComparison.Ordinal);

    /// <summary>Parses a READY line; throws <see cref="FormatException"/> naming what is wrong.</summary>
    public static ReadyLine Parse(string line)
    {
        if (!IsReady(line)) throw new FormatException($"not a READY line: '{line}'");
        var fields = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var part in line["HAMASTER READY ".Length..].Split(' ', StringSplitOptions.RemoveEmptyEntries))
        {
            var equals = part.IndexOf('=', StringComparison.Ordinal);
            if (equals <= 0) throw new FormatException($"READY line field '{part}' is not key=value: '{line}'");
            fields[part[..equals]] = part[(equals + 1)..];
        }

        string Field(string key) => fields.TryGetValue(key, out var value) ? value : throw new FormatException($"READY line has no {key}=: '{line}'");
        IPEndPoint EndPoint(string key) => IPEndPoint.TryParse(Field(key), out var endPoint) && endPoint.Port > 0
            ? endPoint
            : throw new FormatException($"READY line's {key}= is not host:port with a port: '{line}'");
        var id = ulong.TryParse(Field("id"), NumberStyles.None, CultureInfo.InvariantCulture, out var parsed)
            ? parsed
            : throw new FormatException($"READY line's id= is not a number: '{line}'");
        return new ReadyLine(id, EndPoint("client"), EndPoint("peer"), Field("web") == "off" ? null : EndPoint("web"));
    }
}
