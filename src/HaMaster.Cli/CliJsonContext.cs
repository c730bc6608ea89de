using System.Text.Json.Serialization;

namespace HaMaster.Cli;

/// <summary>Source-generated JSON metadata for the CLI's own (non-protobuf) output records.</summary>
[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase, WriteIndented = true, DefaultIgnoreCondition = JsonIgnoreCondition.Never)]
[JsonSerializable(typeof(ClientFlags.JsonError))]
[JsonSerializable(typeof(string))]
internal sealed partial class CliJsonContext : JsonSerializerContext;
