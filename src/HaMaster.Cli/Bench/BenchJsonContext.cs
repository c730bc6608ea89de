using System.Text.Json.Serialization;

namespace HaMaster.Cli.Bench;

/// <summary>Source-generated JSON metadata for the failover probe and fleet-load reports.</summary>
[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase, WriteIndented = true)]
[JsonSerializable(typeof(AvailabilityReport))]
[JsonSerializable(typeof(FleetReport))]
[JsonSerializable(typeof(BulkLoadReport))]
internal sealed partial class BenchJsonContext : JsonSerializerContext;
