using System.Text.Json.Serialization;

namespace HaMaster.Cli;

/// <summary>Source-generated JSON metadata for the CLI's own (non-protobuf) output records.</summary>
[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase, WriteIndented = true, DefaultIgnoreCondition = JsonIgnoreCondition.Never)]
[JsonSerializable(typeof(HamasterCommandLine.JsonError))]
[JsonSerializable(typeof(string))]
[JsonSerializable(typeof(Bench.BenchReport))]
[JsonSerializable(typeof(List<Bench.BenchReport>))]
internal sealed partial class CliJsonContext : JsonSerializerContext;
