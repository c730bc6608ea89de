using HaMaster.Server.Configuration;
using HaMaster.Server.Hosting;
using Microsoft.Extensions.Logging;

namespace HaMaster.Server;

/// <summary>Entry point of <c>hamaster-server</c>, one master process.</summary>
public static class Program
{
    public static async Task<int> Main(string[] args)
    {
        if (args.Contains("--help") || args.Contains("-h"))
        {
            Console.Write(MasterConfiguration.Help());
            return 0;
        }

        MasterOptions options;
        IReadOnlyList<string> warnings;
        try
        {
            options = MasterConfiguration.Load(args, out warnings).Validate();
        }
        catch (Exception e) when (e is ArgumentException or FormatException)
        {
            await Console.Error.WriteLineAsync($"hamaster-server: invalid configuration: {e.Message}").ConfigureAwait(false);
            return 2;
        }

        using var loggerFactory = LoggerFactory.Create(b => b
            .AddSimpleConsole(o =>
            {
                o.SingleLine = true;
                o.TimestampFormat = "HH:mm:ss.fff ";
            })
            .SetMinimumLevel(Environment.GetEnvironmentVariable("HAMASTER_LOG_LEVEL") is { } level && Enum.TryParse<LogLevel>(level, true, out var l) ? l : LogLevel.Information)
            .AddFilter("Microsoft", LogLevel.Warning)
            .AddFilter("Grpc", LogLevel.Warning));
        var logger = loggerFactory.CreateLogger("HaMaster");
        foreach (var warning in warnings)
        {
            logger.LogWarning("{Warning}", warning);
        }

        if (options.ClusterSecretFile is { } secretFile && MasterOptions.IsWorldReadable(secretFile))
        {
            logger.LogWarning("the cluster secret file {Path} is readable by every user of this machine: chmod 0400 it (or 0440 for a group)", secretFile);
        }

        using var stop = new CancellationTokenSource();
        Console.CancelKeyPress += (_, e) =>
        {
            e.Cancel = true;
            stop.Cancel();
        };
        using var sigterm = System.Runtime.InteropServices.PosixSignalRegistration.Create(System.Runtime.InteropServices.PosixSignal.SIGTERM, ctx =>
        {
            ctx.Cancel = true;
            stop.Cancel();
        });

        MasterNode node;
        try
        {
            node = MasterNode.Open(options, loggerFactory);
        }
        catch (Exception e)
        {
            logger.LogCritical(e, "cannot open master {NodeId} data in {DataDirectory}", options.NodeId, options.DataDirectory);
            await Console.Error.WriteLineAsync($"hamaster-server: cannot start: {e.Message}").ConfigureAwait(false);
            return 1;
        }

        await using (node.ConfigureAwait(false))
        {
            try
            {
                await node.StartAsync(stop.Token).ConfigureAwait(false);
            }
            catch (Exception e) when (e is IOException or InvalidOperationException)
            {
                logger.LogCritical(e, "cannot start serving");
                await Console.Error.WriteLineAsync($"hamaster-server: cannot start serving: {e.Message}").ConfigureAwait(false);
                return 1;
            }

            LogMessages.Serving(logger, options.NodeId, $"{options.BindAddress}:{node.ClientPort}", $"{options.BindAddress}:{node.PeerPort}", node.WebAddress ?? "off", Path.GetFullPath(options.DataDirectory));
            // A line the test harness and scripts wait for.
            Console.WriteLine($"HAMASTER READY id={options.NodeId} client={options.BindAddress}:{node.ClientPort} peer={options.BindAddress}:{node.PeerPort} web={node.WebAddress ?? "off"}");
            try
            {
                await Task.Delay(Timeout.Infinite, stop.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
            }

            logger.LogInformation("master {NodeId} stopping", options.NodeId);
        }

        return 0;
    }
}
