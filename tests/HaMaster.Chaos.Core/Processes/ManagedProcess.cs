using System.Diagnostics;

namespace HaMaster.Chaos.Core.Processes;

/// <summary>
/// A child process under test control: output captured line by line to a log file and a ring
/// buffer, kill -9, SIGSTOP/SIGCONT, and waits for exit or for an output line. Everything acts
/// on this process's own PID only (never its children, never by name).
/// Thread-safe: output callbacks arrive on pool threads and are serialised by a lock.
/// </summary>
public sealed class ManagedProcess : IAsyncDisposable
{
    private readonly Process _process;
    private readonly Lock _lock = new();
    private readonly Queue<string> _recent = new();
    private readonly List<(Func<string, bool> Predicate, TaskCompletionSource<string> Found)> _waiters = [];
    private readonly StreamWriter _log;
    private readonly int _capacity;
    private readonly Task _exited;
    private bool _finished;
    private bool _logClosed;

    private ManagedProcess(ProcessSpec spec)
    {
        _capacity = spec.RecentLines;
        LogPath = Path.GetFullPath(spec.LogPath);
        Directory.CreateDirectory(Path.GetDirectoryName(LogPath)!);
        _log = new StreamWriter(new FileStream(LogPath, FileMode.Append, FileAccess.Write, FileShare.ReadWrite)) { AutoFlush = true };
        var start = new ProcessStartInfo(spec.FileName)
        {
            UseShellExecute = false,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = false,
            WorkingDirectory = spec.WorkingDirectory ?? string.Empty,
        };
        foreach (var argument in spec.Arguments)
        {
            start.ArgumentList.Add(argument);
        }

        foreach (var (name, value) in spec.Environment ?? new Dictionary<string, string?>())
        {
            if (value is null)
            {
                start.Environment.Remove(name);
            }
            else
            {
                start.Environment[name] = value;
            }
        }

        _process = new Process { StartInfo = start };
        _process.OutputDataReceived += (_, e) => OnLine(e.Data, string.Empty);
        _process.ErrorDataReceived += (_, e) => OnLine(e.Data, "[err] ");
        if (!_process.Start())
        {
            throw new InvalidOperationException($"could not start {spec.FileName}");
        }

        Pid = _process.Id;
        _process.BeginOutputReadLine();
        _process.BeginErrorReadLine();
        _exited = WatchExitAsync();
    }

    public static ManagedProcess Start(ProcessSpec spec) => new(spec.Validate());

    public int Pid { get; }

    public string LogPath { get; }

    public bool HasExited => _process.HasExited;

    /// <summary>The exit code, or null while running. Killed by a signal: 128 + signal, as .NET reports it.</summary>
    public int? ExitCode => _process.HasExited ? _process.ExitCode : null;

    /// <summary>
    /// True while the process is stopped by a signal (state 'T' in /proc/PID/stat). Linux only.
    /// Lets tests await the effect of <see cref="Pause"/> instead of sleeping.
    /// </summary>
    public bool IsStopped
    {
        get
        {
            try
            {
                var stat = File.ReadAllText($"/proc/{Pid}/stat");
                var afterName = stat.LastIndexOf(')');
                return afterName > 0 && afterName + 2 < stat.Length && stat[afterName + 2] is 'T' or 't';
            }
            catch (IOException)
            {
                return false;
            }
        }
    }

    /// <summary>The last <see cref="ProcessSpec.RecentLines"/> output lines, oldest first.</summary>
    public IReadOnlyList<string> RecentOutput()
    {
        lock (_lock)
        {
            return [.. _recent];
        }
    }

    /// <summary>SIGKILL this process (not its children). No-op when it already exited.</summary>
    public void Kill()
    {
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: false);
        }
    }

    /// <summary>SIGSTOP: the process freezes (timers, sockets and all) until <see cref="Resume"/>.</summary>
    public void Pause() => Signals.Send(Pid, Signals.Stop);

    /// <summary>SIGCONT.</summary>
    public void Resume() => Signals.Send(Pid, Signals.Continue);

    /// <summary>SIGTERM: asks the process to shut down cleanly.</summary>
    public void Terminate() => Signals.Send(Pid, Signals.Terminate);

    /// <summary>Waits for exit and for all output to be captured; returns the exit code.</summary>
    public async ValueTask<int> WaitForExitAsync(CancellationToken cancellationToken = default)
    {
        await _exited.WaitAsync(cancellationToken);
        return _process.ExitCode;
    }

    /// <summary>
    /// Returns the first line (already buffered or yet to come) matching <paramref name="predicate"/>.
    /// Throws <see cref="TimeoutException"/> after <paramref name="timeout"/>, and
    /// <see cref="InvalidOperationException"/> if the process exits without printing one.
    /// </summary>
    public async ValueTask<string> WaitForOutputLineAsync(Func<string, bool> predicate, TimeSpan timeout, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(predicate);
        TaskCompletionSource<string> found;
        lock (_lock)
        {
            foreach (var line in _recent)
            {
                if (predicate(line))
                {
                    return line;
                }
            }

            if (_finished)
            {
                throw new InvalidOperationException($"process {Pid} exited without printing the awaited line");
            }

            found = new TaskCompletionSource<string>(TaskCreationOptions.RunContinuationsAsynchronously);
            _waiters.Add((predicate, found));
        }

        try
        {
            return await found.Task.WaitAsync(timeout, cancellationToken);
        }
        finally
        {
            lock (_lock)
            {
                _waiters.RemoveAll(w => w.Found == found);
            }
        }
    }

    /// <summary>Kills the process if it still runs, waits for its exit, closes the log.</summary>
    public async ValueTask DisposeAsync()
    {
        Kill();
        try
        {
            await _exited.WaitAsync(TimeSpan.FromSeconds(10));
        }
        finally
        {
            lock (_lock)
            {
                _logClosed = true;
                _log.Dispose();
            }

            _process.Dispose();
        }
    }

    private async Task WatchExitAsync()
    {
        // WaitForExitAsync also waits for the redirected streams to reach end of file.
        await _process.WaitForExitAsync();
        lock (_lock)
        {
            _finished = true;
            foreach (var (_, found) in _waiters)
            {
                found.TrySetException(new InvalidOperationException($"process {Pid} exited (code {_process.ExitCode}) without printing the awaited line"));
            }

            _waiters.Clear();
            if (!_logClosed)
            {
                _log.Flush();
            }
        }
    }

    private void OnLine(string? line, string prefix)
    {
        if (line is null)
        {
            return;
        }

        var text = prefix + line;
        lock (_lock)
        {
            if (!_logClosed)
            {
                _log.WriteLine(text);
            }

            _recent.Enqueue(text);
            while (_recent.Count > _capacity)
            {
                _recent.Dequeue();
            }

            foreach (var (predicate, found) in _waiters)
            {
                if (predicate(text))
                {
                    found.TrySetResult(text);
                }
            }
        }
    }
}
