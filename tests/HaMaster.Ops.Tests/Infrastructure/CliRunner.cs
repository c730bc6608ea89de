using HaMaster.Cli;

namespace HaMaster.Ops.Tests.Infrastructure;

/// <summary>Runs the <c>hamaster</c> command tree in-process and captures what a user would see.</summary>
internal static class CliRunner
{
    public sealed record Result(int ExitCode, string Out, string Err)
    {
        public override string ToString() => $"exit {ExitCode}; stdout: {Out}; stderr: {Err}";
    }

    public static async Task<Result> RunAsync(params string[] args)
    {
        using var output = new StringWriter();
        using var error = new StringWriter();
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(120));
        var code = await HamasterCommandLine.RunAsync(args, output, error, cts.Token);
        return new Result(code, output.ToString(), error.ToString());
    }
}
