using LiveImage.Tasks.Diagnostics;
using LiveImage.Tasks.Processes;

namespace LiveImage.Tasks.Emulation;

/// <summary>arch-test, which mmdebstrap asks too: whether this host runs an architecture's programs without emulation.</summary>
internal static class ArchTest
{
    /// <summary>arch-test -n: whether this host's CPU and kernel run the architecture's programs without emulation.</summary>
    public static bool RunsNatively(string architecture)
    {
        if (HostTools.Find("arch-test") is not { } archTest) return false;
        try
        {
            var run = new ProcessRunner(null, CancellationToken.None).Capture(new ToolCommand(archTest, ["-n", architecture]) { Timeout = TimeSpan.FromSeconds(30) });
            return run.ExitCode == 0 && run.Output.Trim() == architecture + ": ok";
        }
        catch (LiveImageException)
        {
            return false;
        }
    }
}
