using LiveImage.Tasks.Rootfs;
using Microsoft.Build.Framework;

namespace LiveImage.Tasks;

/// <summary>
/// Makes the image what it ships as: the image's apt sources instead of the build mirror,
/// daemons unblocked, apt caches and lists gone, an empty machine-id (a new one per boot),
/// no SSH host keys (reference 000, point 16; DESIGN §3).
/// </summary>
public sealed class FinalizeRootfs : RootfsStageTask
{
    [Required] public string Suite { get; set; } = "";
    public string Components { get; set; } = "main";
    /// <summary>Empty: the sources the bootstrapper wrote stay.</summary>
    public string ImageMirror { get; set; } = "";
    /// <summary>Where the list of installed packages (name version arch) is written on the host.</summary>
    public string ManifestFile { get; set; } = "";
    /// <summary>Resolved AptSource items: build-only ones are removed, image-only ones added.</summary>
    public ITaskItem[] AptSources { get; set; } = [];

    protected override void RunStage()
    {
        High("StageStarting", StageName, Architecture, ImageMirror.Length > 0 ? $"image sources {ImageMirror}" : "image sources as bootstrapped");
        var started = DateTime.UtcNow;
        var env = AptEnvironment();
        env["LIVEIMAGE_MIRROR"] = ImageMirror;
        env["LIVEIMAGE_SUITE"] = Suite;
        env["LIVEIMAGE_COMPONENTS"] = Components.Replace(';', ' ').Replace(',', ' ');
        // the build's sources are moved aside for good, the image's own put in place (live-build's .chroot/.binary lists)
        var sources = AptSources.Select(Packages.AptSourceEntry.FromItem).ToList();
        foreach (var source in sources.Where(s => s.Use == Packages.AptSourceUse.Image)) source.WriteInto(Layer);
        env["LIVEIMAGE_BUILD_ONLY_SOURCES"] = string.Join(' ', sources.Where(s => !s.InImage).Select(s => s.Name));
        RunChecked(Namespace().InChroot(["/bin/sh", "-c", Script], LogFile, env), "finalize");
        if (ManifestFile.Length > 0) WriteManifest();
        High("StageFinished", StageName, Architecture, (DateTime.UtcNow - started).TotalSeconds);
    }

    private void WriteManifest()
    {
        var lines = File.ReadLines(LogFile).Where(l => l.StartsWith("pkg ", StringComparison.Ordinal)).Select(l => l[4..]).ToList();
        Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(ManifestFile))!);
        File.WriteAllLines(ManifestFile, lines);
        Log.LogMessage(MessageImportance.High, $"{StageName} [{Architecture}]: {lines.Count} packages in the image");
    }

    internal const string Script = """
        set -eu
        for name in $LIVEIMAGE_BUILD_ONLY_SOURCES; do
            rm -f "/etc/apt/sources.list.d/liveimage-$name.sources" "/etc/apt/keyrings/liveimage-$name.asc" "/etc/apt/keyrings/liveimage-$name.gpg"
        done
        if [ -n "$LIVEIMAGE_MIRROR" ]; then
            # the project's own AptSource files (liveimage-*) stay
            find /etc/apt/sources.list.d -maxdepth 1 \( -name '*.list' -o -name '*.sources' \) ! -name 'liveimage-*' -delete
            echo "deb $LIVEIMAGE_MIRROR $LIVEIMAGE_SUITE $LIVEIMAGE_COMPONENTS" > /etc/apt/sources.list
        fi
        rm -f /usr/sbin/policy-rc.d
        apt-get clean
        rm -rf /var/lib/apt/lists/* /var/cache/apt/*.bin
        mkdir -p /var/lib/apt/lists/partial
        : > /etc/machine-id
        rm -f /var/lib/dbus/machine-id /etc/ssh/ssh_host_*
        rm -f /var/log/*.log /var/log/apt/*.log
        dpkg-query -W -f='pkg ${Package} ${Version} ${Architecture}\n'
        dpkg-query -W -f='${Package} ${Version} ${Architecture}\n' > /var/lib/liveimage-packages.manifest 2>/dev/null || true
        """;
}
