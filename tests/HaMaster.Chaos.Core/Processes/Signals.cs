using System.Runtime.InteropServices;

namespace HaMaster.Chaos.Core.Processes;

/// <summary>POSIX signals by PID through libc's kill(2) (Linux numbering).</summary>
internal static partial class Signals
{
    public const int Stop = 19;      // SIGSTOP
    public const int Continue = 18;  // SIGCONT
    public const int Terminate = 15; // SIGTERM

    public static void Send(int pid, int signal)
    {
        if (kill(pid, signal) != 0)
        {
            throw new InvalidOperationException($"kill({pid}, {signal}) failed: errno {Marshal.GetLastPInvokeError()}");
        }
    }

    [LibraryImport("libc", EntryPoint = "kill", SetLastError = true)]
    private static partial int kill(int pid, int signal);
}
