using LiveImage.Tasks.Rootfs;
using Microsoft.Build.Framework;

namespace LiveImage.Tasks;

/// <summary>
/// Runs one command inside the image, in a layer of its own, for custom stages in a user's
/// targets. It enters the image the only way the SDK does (<see cref="Rootfs.RootfsNamespace"/>):
/// every mount lives in a private namespace that dies with the command.
/// </summary>
public sealed class MountChroot : RootfsStageTask
{
    /// <summary>A shell command line, run with /bin/sh -c.</summary>
    [Required] public string Command { get; set; } = "";

    /// <summary>false: run on the host side with the image root in $LIVEIMAGE_ROOT.</summary>
    public bool InChroot { get; set; } = true;

    private protected override bool SummarizesLayer => false;

    protected override void RunStage()
    {
        var ns = Namespace();
        var command = InChroot
            ? ns.InChroot(["/bin/sh", "-c", Command], LogFile, Distro.PackageEnvironment())
            : ns.OnHost(["/bin/sh", "-c", Command], LogFile, Distro.PackageEnvironment());
        var result = CreateRunner().Run(command);
        foreach (var leftover in result.Leftovers) Log.LogWarningWithCodeFromResources(nameof(Strings.LeftoverProcess), Command, leftover);
        if (result.ExitCode != 0) throw new Diagnostics.LiveImageException(nameof(Strings.CommandFailed), Command, result.ExitCode, result.TailText, result.LogPath);
    }
}
