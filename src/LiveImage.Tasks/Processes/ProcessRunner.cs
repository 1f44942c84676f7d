using System.Collections.Concurrent;
using System.Diagnostics;
using LiveImage.Tasks.Diagnostics;
using Microsoft.Build.Framework;
using Microsoft.Build.Utilities;

namespace LiveImage.Tasks.Processes;

/// <summary>One external command: program, arguments (passed as a list, never re-quoted), environment, log file.</summary>
internal sealed record ToolCommand(string FileName, IReadOnlyList<string> Arguments)
{
    public IReadOnlyDictionary<string, string> Environment { get; init; } = new Dictionary<string, string>();
    public string? LogPath { get; init; }
    public TimeSpan? Timeout { get; init; }

    /// <summary>Turns the output into progress lines (at high importance) as it comes; null: none.</summary>
    public ToolProgress? Progress { get; init; }

    /// <summary>What the log shows of the command; wrappers set it to the command they wrap.</summary>
    public string? Summary { get; init; }

    public string Display => Summary ?? Join(new[] { FileName }.Concat(Arguments));

    public static string Join(IEnumerable<string> words) => string.Join(' ', words.Select(Quote));

    private static string Quote(string a) => a.Length > 0 && a.All(c => char.IsLetterOrDigit(c) || "-_./=:,+@%".Contains(c)) ? a : "'" + a.Replace("'", "'\\''") + "'";
}

/// <summary>What a captured command printed, kept in memory.</summary>
internal sealed record CapturedOutput(int ExitCode, string Output, string Error);

internal sealed record ToolResult(int ExitCode, IReadOnlyList<string> Tail, string LogPath, IReadOnlyList<string> Leftovers)
{
    public string TailText => string.Join('\n', Tail);
}

/// <summary>
/// The one door through which the tasks start processes: <see cref="Run"/> (to completion, output
/// logged), <see cref="Capture"/> (to completion, output kept in memory), <see cref="StartChild"/>
/// (a long-running child the caller talks to) and <see cref="StartOnTerminal"/> (one the user talks to). A program that is not installed is a coded error
/// naming the Debian package that has it, wherever it is started.
/// <see cref="Run"/> runs a command to completion on the calling thread. Output goes line by line to the log
/// file and to MSBuild at Low importance; the last lines are kept for error messages.
/// The calling thread blocks while the child runs on purpose: the namespace wrapper ties
/// the child's life to this thread with a parent-death signal.
/// </summary>
internal sealed class ProcessRunner(TaskLoggingHelper? log, CancellationToken cancellation)
{
    public const int TailLines = 20;
    internal const string LeftoverMarker = "LIVEIMAGE-LEFTOVER: ";

    public ToolResult Run(ToolCommand command)
    {
        var logPath = command.LogPath ?? Path.Combine(Path.GetTempPath(), $"liveimage-{Guid.NewGuid():N}.log");
        Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(logPath))!);
        using var logFile = new StreamWriter(logPath, append: true) { AutoFlush = true };
        logFile.WriteLine($"$ {command.Display}");
        log?.LogMessage(MessageImportance.Normal, command.Display);

        var lines = new BlockingCollection<string>();
        var open = 2;
        void OnData(object _, DataReceivedEventArgs e)
        {
            if (e.Data is null) { if (Interlocked.Decrement(ref open) == 0) lines.CompleteAdding(); }
            else lines.Add(e.Data);
        }

        using var process = StartChild(command);
        process.OutputDataReceived += OnData;
        process.ErrorDataReceived += OnData;
        process.StandardInput.Close(); // tools must never wait for keyboard input
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();

        using var killOnCancel = cancellation.Register(() => Kill(process));
        using var timer = command.Timeout is { } t ? new Timer(_ => Kill(process), null, t, System.Threading.Timeout.InfiniteTimeSpan) : null;

        var tail = new Queue<string>();
        var leftovers = new List<string>();
        try
        {
            foreach (var line in lines.GetConsumingEnumerable())
            {
                if (command.Progress is { } progress)
                {
                    var keep = progress.Observe(line, out var step);
                    if (step is not null) log?.LogMessage(MessageImportance.High, step);
                    if (!keep) continue;
                }
                logFile.WriteLine(line);
                if (line.StartsWith(LeftoverMarker, StringComparison.Ordinal)) { leftovers.Add(line[LeftoverMarker.Length..]); continue; }
                log?.LogMessage(MessageImportance.Low, line);
                tail.Enqueue(line);
                if (tail.Count > TailLines) tail.Dequeue();
            }
        }
        catch (IOException)
        {
            // the log cannot be written (a full disk): the command must not run on unseen, nor outlive the task
            Kill(process);
            process.WaitForExit();
            throw;
        }
        process.WaitForExit();
        cancellation.ThrowIfCancellationRequested();
        logFile.WriteLine($"# exit code {process.ExitCode}");
        return new ToolResult(process.ExitCode, tail.ToArray(), logPath, leftovers);
    }

    /// <summary>
    /// Runs a command to completion and keeps its output in memory (for read-only inspectors whose
    /// output may hold file contents): only the command line and exit code reach MSBuild and the log file.
    /// </summary>
    public CapturedOutput Capture(ToolCommand command)
    {
        log?.LogMessage(MessageImportance.Low, command.Display);
        using var process = StartChild(command);
        using (cancellation.Register(() => Kill(process)))
        using (command.Timeout is { } t ? new Timer(_ => Kill(process), null, t, System.Threading.Timeout.InfiniteTimeSpan) : null)
        {
            process.StandardInput.Close();
            var output = process.StandardOutput.ReadToEndAsync();
            var error = process.StandardError.ReadToEndAsync();
            process.WaitForExit();
            cancellation.ThrowIfCancellationRequested();
            if (command.LogPath is { } logPath)
            {
                Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(logPath))!);
                File.AppendAllText(logPath, $"$ {command.Display}\n# exit code {process.ExitCode}\n");
            }
            return new CapturedOutput(process.ExitCode, output.Result, error.Result);
        }
    }

    /// <summary>
    /// Starts a command with its standard input, output and error redirected and returns at once;
    /// the caller reads the output and ends the child (a guard, qemu).
    /// </summary>
    public static Process StartChild(ToolCommand command) =>
        Start(command, new ProcessStartInfo(command.FileName)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
        });

    /// <summary>
    /// Starts a command on the user's terminal: it reads the build's standard input and writes to its
    /// standard output directly (a shell, a guest's console); only standard error comes back through a
    /// pipe when <paramref name="captureError"/>, for the caller to watch and pass on.
    /// </summary>
    public static Process StartOnTerminal(ToolCommand command, bool captureError = false) =>
        Start(command, new ProcessStartInfo(command.FileName) { UseShellExecute = false, RedirectStandardError = captureError });

    /// <summary>Starts <paramref name="command"/> as <paramref name="psi"/> says; a missing program is LIVE2002 naming its package.</summary>
    private static Process Start(ToolCommand command, ProcessStartInfo psi)
    {
        foreach (var a in command.Arguments) psi.ArgumentList.Add(a);
        foreach (var (k, v) in command.Environment) psi.Environment[k] = v;
        var process = new Process { StartInfo = psi };
        try
        {
            process.Start();
        }
        catch (System.ComponentModel.Win32Exception)
        {
            process.Dispose();
            throw new LiveImageException(nameof(Strings.MissingTool), command.FileName, HostTools.PackageFor(command.FileName));
        }
        return process;
    }

    /// <summary>
    /// setpriv's arguments that run <paramref name="program"/> with a parent-death signal: the kernel
    /// kills it when the thread that started it ends (also when the build is SIGKILLed).
    /// </summary>
    public static IReadOnlyList<string> WithParentDeathSignal(string program, IReadOnlyList<string> arguments) =>
        ["--pdeathsig", "KILL", "--", program, .. arguments];

    private static void Kill(Process process)
    {
        try { process.Kill(entireProcessTree: true); }
        catch (InvalidOperationException) { /* already gone */ }
    }
}
