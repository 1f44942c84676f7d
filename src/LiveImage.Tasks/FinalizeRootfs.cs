using Microsoft.Build.Framework;

namespace LiveImage.Tasks;

/// <summary>
/// Makes the image what it ships as: the image's apt sources instead of the build mirror,
/// daemons unblocked, apt caches and lists gone, no SSH host keys, and every boot a first boot
/// (see <see cref="Script"/>), so that each copy of the image gets its own machine id and keys.
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
        High(nameof(Strings.StageStarting), StageName, Architecture, ImageMirror.Length > 0 ? $"image sources {ImageMirror}" : "image sources as bootstrapped");
        var started = DateTime.UtcNow;
        var env = AptEnvironment();
        env["LIVEIMAGE_MIRROR"] = ImageMirror;
        env["LIVEIMAGE_SUITE"] = Suite;
        env["LIVEIMAGE_COMPONENTS"] = Components.Replace(';', ' ').Replace(',', ' ');
        // the build's sources are moved aside for good, the image's own put in place (live-build's .chroot/.binary lists)
        var sources = AptSources.Select(Internal.AptSourceEntry.FromItem).ToList();
        foreach (var source in sources.Where(s => s.Use == Internal.AptSourceUse.Image)) source.WriteInto(Layer);
        env["LIVEIMAGE_IMAGE_SOURCES_SCRIPT"] = ImageSourcesScript;
        env["LIVEIMAGE_BUILD_ONLY_SOURCES"] = string.Join(' ', sources.Where(s => !s.InImage).Select(s => s.Name));
        RunChecked(Namespace().InChroot(["/bin/sh", "-c", Script], LogFile, env), "finalize");
        if (ManifestFile.Length > 0) WriteManifest();
        High(nameof(Strings.StageFinished), StageName, Architecture, (DateTime.UtcNow - started).TotalSeconds);
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
            LIVEIMAGE_ROOT= sh -c "$LIVEIMAGE_IMAGE_SOURCES_SCRIPT"
        fi
        rm -f /usr/sbin/policy-rc.d
        apt-get clean
        rm -rf /var/lib/apt/lists/* /var/cache/apt/*.bin
        mkdir -p /var/lib/apt/lists/partial
        # Every boot of a live system is its first: systemd makes a machine id and runs the units that
        # wait for a first boot (ssh-keygen's among them). Its first-boot preset-all would enable units
        # the packages left disabled (networkd's wait-online, say), and its wizard would wait for an
        # answer on the console: the preset file keeps every unit as the build left it, and the wizard is masked.
        echo uninitialized > /etc/machine-id
        rm -f /var/lib/dbus/machine-id /etc/ssh/ssh_host_*
        mkdir -p /etc/systemd/system-preset
        printf '%s\n' '# LiveImage.Sdk: the first-boot preset-all of every live boot changes nothing' 'disable *' \
            > /etc/systemd/system-preset/00-liveimage-first-boot.preset
        ln -sfn /dev/null /etc/systemd/system/systemd-firstboot.service
        rm -f /var/log/*.log /var/log/apt/*.log
        dpkg-query -W -f='pkg ${Package} ${Version} ${Architecture}\n'
        dpkg-query -W -f='${Package} ${Version} ${Architecture}\n' > /var/lib/liveimage-packages.manifest 2>/dev/null || true
        """;

    /// <summary>
    /// With an ImageMirror: the bootstrapped sources stay, each entry of the main archive (the URI
    /// that serves the suite itself, so also its -updates entry) pointing at the mirror instead; the
    /// security archive and other entries keep their URIs. One-line (*.list) and deb822 (*.sources)
    /// files alike; the project's own AptSource files (liveimage-*) are left alone. Works on the
    /// tree at $LIVEIMAGE_ROOT (empty inside the image) so that it can be tested on a plain folder.
    /// </summary>
    internal const string ImageSourcesScript = """
        set -eu
        apt="$LIVEIMAGE_ROOT/etc/apt"
        files=$(ls "$apt/sources.list" "$apt"/sources.list.d/*.list "$apt"/sources.list.d/*.sources 2>/dev/null | grep -v '/liveimage-[^/]*$' || true)
        # the main archive: every URI of an entry for the suite itself
        main=$(for f in $files; do
            case "$f" in
            *.sources) awk -v suite="$LIVEIMAGE_SUITE" '
                /^[ 	]*$/ { if (hit) print uris; uris = ""; hit = 0; next }
                tolower($1) == "uris:" { uris = ""; for (i = 2; i <= NF; i++) uris = uris " " $i }
                tolower($1) == "suites:" { for (i = 2; i <= NF; i++) if ($i == suite) hit = 1 }
                END { if (hit) print uris }' "$f" ;;
            *) awk -v suite="$LIVEIMAGE_SUITE" '
                $1 == "deb" || $1 == "deb-src" { i = 2; if ($i ~ /^\[/) { while (i < NF && $i !~ /\]$/) i++; i++ } if ($(i + 1) == suite) print $i }' "$f" ;;
            esac
        done | tr ' ' '\n' | sed '/^$/d' | sort -u | tr '\n' ' ')
        if [ -z "$main" ]; then
            echo "deb $LIVEIMAGE_MIRROR $LIVEIMAGE_SUITE $LIVEIMAGE_COMPONENTS" >> "$apt/sources.list"
            exit 0
        fi
        for f in $files; do
            awk -v main=" $main" -v mirror="$LIVEIMAGE_MIRROR" '
                function swap(i) { if (index(main " ", " " $i " ")) $i = mirror }
                ($1 == "deb" || $1 == "deb-src") { i = 2; if ($i ~ /^\[/) { while (i < NF && $i !~ /\]$/) i++; i++ } swap(i); print; next }
                tolower($1) == "uris:" { for (i = 2; i <= NF; i++) swap(i); print; next }
                { print }' "$f" > "$f.liveimage-new"
            cat "$f.liveimage-new" > "$f"
            rm -f "$f.liveimage-new"
        done
        """;
}
