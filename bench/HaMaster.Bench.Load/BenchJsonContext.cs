using System.Text.Json.Serialization;

namespace HaMaster.Bench.Load;

/// <summary>Source-generated JSON metadata of the generator's reports (the --json output scripts/bench-report.py reads).</summary>
[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase, WriteIndented = true)]
[JsonSerializable(typeof(BenchReport))]
[JsonSerializable(typeof(List<BenchReport>))]
[JsonSerializable(typeof(AvailabilityReport))]
[JsonSerializable(typeof(FleetReport))]
[JsonSerializable(typeof(BulkLoadReport))]
internal sealed partial class BenchJsonContext : JsonSerializerContext;
