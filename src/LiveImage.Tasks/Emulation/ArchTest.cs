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
            var psi = new System.Diagnostics.ProcessStartInfo(archTest) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
            psi.ArgumentList.Add("-n");
            psi.ArgumentList.Add(architecture);
            using var p = System.Diagnostics.Process.Start(psi)!;
            var output = p.StandardOutput.ReadToEnd();
            p.StandardError.ReadToEnd();
            return p.WaitForExit(30_000) && p.ExitCode == 0 && output.Trim() == architecture + ": ok";
        }
        catch (System.ComponentModel.Win32Exception)
        {
            return false;
        }
    }
}
