using LiveImage.Tasks.Processes;
using LiveImage.Tasks.Rootfs;
using Microsoft.Build.Framework;
using Microsoft.Build.Utilities;

namespace LiveImage.Tasks;

/// <summary>
/// Runs one command inside the image: the way a project's own targets work in it (README, "Working inside an
/// image") and what <c>-t:Shell</c> uses. It enters the image the only way the SDK does
/// (<see cref="RootfsNamespace"/>): every mount lives in a private namespace that dies with the command. The
/// image's layers stay as they are: what the command changes goes to <see cref="Layer"/> when given (cleared
/// first), else to a throw-away layer that is deleted afterwards.
/// </summary>
public sealed class MountChroot : RootfsTask
{
    /// <summary>A shell command line, run with /bin/sh -c.</summary>
    [Required] public string Command { get; set; } = "";

    /// <summary>false: run on the host side with the image root in $LIVEIMAGE_ROOT.</summary>
    public bool InChroot { get; set; } = true;

    /// <summary>Where the command's changes are kept; empty: they are discarded.</summary>
    public string Layer { get; set; } = "";

    /// <summary>The command's output in full; default &lt;ScratchDirectory&gt;/mountchroot.log.</summary>
    public string LogFile { get; set; } = "";

    /// <summary>Each line the command prints is also an MSBuild message of high importance (seen at any verbosity).</summary>
    public bool ShowOutput { get; set; }

    /// <summary>
    /// The command reads the build's standard input and writes to its standard output directly (a shell for a
    /// user); nothing is logged but the command line, and <see cref="Output"/> stays empty.
    /// </summary>
    public bool Interactive { get; set; }

    /// <summary>The lines the command printed (not when <see cref="Interactive"/>).</summary>
    [Output] public ITaskItem[] Output { get; private set; } = [];

    private protected override void ExecuteStage()
    {
        var scratch = Path.GetFullPath(ScratchDirectory);
        var upper = Layer.Length > 0 ? Path.GetFullPath(Layer) : Path.Combine(scratch, "discarded");
        ClearDirectory(upper);
        var logFile = LogFile.Length > 0 ? LogFile : Path.Combine(scratch, "mountchroot.log");
        if (File.Exists(logFile)) File.Delete(logFile);
        try
        {
            var ns = Namespace(LowerLayers.Select(l => l.GetMetadata("FullPath")).ToList(), upper, Path.Combine(scratch, "ns"));
            var command = InChroot
                ? ns.InChroot(["/bin/sh", "-c", Command], logFile, Distro.PackageEnvironment())
                : ns.OnHost(["/bin/sh", "-c", Command], logFile, Distro.PackageEnvironment());
            using (OpenEmulation(EmulatedArchitecture, RegisterBinfmt))
            {
                if (Interactive) RunOnTerminal(command);
                else RunLogged(command);
            }
        }
        finally
        {
            if (Layer.Length == 0 && Directory.Exists(upper)) Directory.Delete(upper, recursive: true);
        }
    }

    private void RunLogged(ToolCommand command)
    {
        var result = RunInImage(command, Command);
        var lines = CommandOutput(result.LogPath);
        Output = lines.Select(l => (ITaskItem)new TaskItem(l.Length > 0 ? l : " ")).ToArray();
        if (ShowOutput) foreach (var line in lines) Log.LogMessage(MessageImportance.High, line);
        if (result.ExitCode != 0) throw new Diagnostics.LiveImageException(nameof(Strings.CommandFailed), Command, result.ExitCode, result.TailText, result.LogPath);
    }

    private void RunOnTerminal(ToolCommand command)
    {
        Log.LogMessage(MessageImportance.Normal, command.Display);
        using var process = ProcessRunner.StartOnTerminal(command);
        using (CancellationToken.Register(() => { try { process.Kill(entireProcessTree: true); } catch (InvalidOperationException) { } }))
        {
            process.WaitForExit();
        }
        CancellationToken.ThrowIfCancellationRequested();
        if (process.ExitCode != 0) throw new Diagnostics.LiveImageException(nameof(Strings.ShellFailed), Command, process.ExitCode);
    }

    /// <summary>What the command printed: its log without the runner's own lines (the command line, the exit code, leftovers).</summary>
    internal static List<string> CommandOutput(string logPath) =>
        File.Exists(logPath)
            ? File.ReadAllLines(logPath)
                .Where(l => !l.StartsWith("$ ", StringComparison.Ordinal) && !l.StartsWith("# exit code ", StringComparison.Ordinal)
                    && !l.StartsWith(ProcessRunner.LeftoverMarker, StringComparison.Ordinal))
                .ToList()
            : [];
}
