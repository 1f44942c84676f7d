using LiveImage.Tasks.Distributions;
using LiveImage.Tasks.Processes;
using Microsoft.Build.Framework;

namespace LiveImage.Tasks.Rootfs;

/// <summary>
/// The one way into an image root, so that nothing the build mounts or starts can outlive it or
/// be seen by the host (README, "How a build works"). A command runs as a child of a shell that is
/// PID 1 of a private PID and mount namespace (unshare), tied to the build by a parent-death
/// signal (setpriv). The shell stacks the layers with overlayfs, mounts proc, sys, dev, a tmpfs
/// /run and the package cache, then runs the command either inside the root (chroot) or on the
/// host side with the root as an argument. However the command ends, even when the build is
/// killed with SIGKILL, the namespace dies with it and the kernel drops every mount: nothing
/// is ever mounted in the build's own namespace.
/// </summary>
internal sealed class RootfsNamespace
{
    /// <summary>Layer directories from the bottom (bootstrap) up; all read-only when <see cref="Upper"/> is set.</summary>
    public required IReadOnlyList<string> Lower { get; init; }

    /// <summary>The writable layer of the running stage, or null for a read-only view.</summary>
    public string? Upper { get; init; }

    /// <summary>Scratch directory of this stage (overlay workdir and the mount point).</summary>
    public required string ScratchDirectory { get; init; }

    /// <summary>Shared package cache: its packages are linked into the run's own download directory (<see cref="PackageCacheLayout"/>) and new downloads linked back.</summary>
    public string? PackageCache { get; init; }

    /// <summary>Where the image's package manager keeps downloaded packages, and their file names (Debian: /var/cache/apt/archives, *.deb).</summary>
    public PackageCacheLayout? PackageCacheLayout { get; init; }

    /// <summary>Mount proc, sys, dev and run into the root (not needed to just read the files).</summary>
    public bool MountSystem { get; init; } = true;

    public string MergedDirectory => Path.Combine(ScratchDirectory, "root");

    /// <summary>A read-only view of <paramref name="layers"/> (bottom first), without proc, sys or dev: for reading the image's files.</summary>
    public static RootfsNamespace ReadOnlyView(IEnumerable<ITaskItem> layers, string scratchDirectory) => new()
    {
        Lower = layers.Select(l => l.GetMetadata("FullPath")).ToList(),
        ScratchDirectory = Path.GetFullPath(scratchDirectory),
        MountSystem = false,
    };

    /// <summary>Runs <paramref name="command"/> chrooted into the image.</summary>
    public ToolCommand InChroot(IReadOnlyList<string> command, string logPath, IReadOnlyDictionary<string, string>? env = null) =>
        Build("chroot", command, logPath, env);

    /// <summary>Runs <paramref name="command"/> on the host side; the image root is in $LIVEIMAGE_ROOT.</summary>
    public ToolCommand OnHost(IReadOnlyList<string> command, string logPath, IReadOnlyDictionary<string, string>? env = null) =>
        Build("host", command, logPath, env);

    private ToolCommand Build(string mode, IReadOnlyList<string> command, string logPath, IReadOnlyDictionary<string, string>? env)
    {
        if (Lower.Count == 0 && Upper is null) throw new ArgumentException("no layers");
        var work = Path.Combine(ScratchDirectory, "work");
        UserNamespace.RemoveTree(work); // stale overlay workdir of a killed run
        Directory.CreateDirectory(work);
        Directory.CreateDirectory(MergedDirectory);
        if (Upper is not null) Directory.CreateDirectory(Upper);

        var environment = new Dictionary<string, string>(env ?? new Dictionary<string, string>())
        {
            ["LIVEIMAGE_MODE"] = mode,
            ["LIVEIMAGE_ROOT"] = MergedDirectory,
            // overlayfs lists lowerdirs top first
            ["LIVEIMAGE_LOWER"] = string.Join(':', Lower.Reverse()),
            ["LIVEIMAGE_UPPER"] = Upper ?? "",
            ["LIVEIMAGE_WORK"] = work,
            ["LIVEIMAGE_CACHE"] = PackageCacheLayout is null ? "" : PackageCache ?? "",
            ["LIVEIMAGE_CACHE_DIR"] = PackageCacheLayout?.Directory ?? "",
            ["LIVEIMAGE_CACHE_PATTERN"] = PackageCacheLayout?.Pattern ?? "",
            ["LIVEIMAGE_SYSTEM"] = MountSystem ? "1" : "",
            // in a user namespace overlayfs may not write trusted.* xattrs: its opaque directories are user.overlay.opaque
            ["LIVEIMAGE_OVERLAY_OPTIONS"] = UserNamespace.Active ? "userxattr," : "",
            ["PATH"] = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
            ["LC_ALL"] = "C.UTF-8",
        };
        var args = ProcessRunner.WithParentDeathSignal("unshare",
        [
            .. UserNamespace.UnshareOptions, "--mount", "--pid", "--fork", "--kill-child", "--mount-proc", "--propagation", "private", "--",
            "/bin/sh", "-c", Script, "liveimage-namespace", .. command,
        ]);
        return new ToolCommand("setpriv", args)
        {
            Environment = environment,
            LogPath = logPath,
            Summary = $"[{mode} in image namespace] {ToolCommand.Join(command.Select(c => c.Contains('\n') ? "<script>" : c))}",
        };
    }

    /// <summary>
    /// The namespace's PID 1. It stays the parent of the command, so that it can report (and the
    /// namespace's end can kill) whatever the command left running.
    /// </summary>
    internal const string Script = """
        set -eu
        root=$LIVEIMAGE_ROOT
        if [ -n "$LIVEIMAGE_UPPER" ]; then
            opts="${LIVEIMAGE_OVERLAY_OPTIONS}upperdir=$LIVEIMAGE_UPPER,workdir=$LIVEIMAGE_WORK"
            [ -n "$LIVEIMAGE_LOWER" ] && opts="lowerdir=$LIVEIMAGE_LOWER,$opts"
            [ -z "$LIVEIMAGE_LOWER" ] && { mount --bind "$LIVEIMAGE_UPPER" "$root"; opts=; }
            [ -n "$opts" ] && mount -t overlay liveimage -o "$opts" "$root"
        else
            case "$LIVEIMAGE_LOWER" in
                *:*) mount -t overlay liveimage -o "${LIVEIMAGE_OVERLAY_OPTIONS}lowerdir=$LIVEIMAGE_LOWER" "$root" ;;
                *) mount --bind -o ro "$LIVEIMAGE_LOWER" "$root" ;;
            esac
        fi
        if [ -n "$LIVEIMAGE_SYSTEM" ]; then
            mount -t proc proc "$root/proc"
            # a user namespace may mount sysfs only with a network namespace of its own: it binds the host's
            mount -t sysfs sysfs "$root/sys" 2>/dev/null || mount --rbind /sys "$root/sys"
            mount --rbind /dev "$root/dev"
            mount -t tmpfs tmpfs "$root/run"
            if [ -f /etc/resolv.conf ] && [ -f "$root/etc/resolv.conf" ] && [ ! -L "$root/etc/resolv.conf" ]; then
                mount --bind /etc/resolv.conf "$root/etc/resolv.conf"
            fi
            if [ -n "$LIVEIMAGE_CACHE" ] && [ -d "$root$LIVEIMAGE_CACHE_DIR" ]; then
                # apt locks its archives directory, and that lock would make every other build
                # on the machine wait or fail: each run gets its own directory, seeded from the
                # shared cache with hard links, and what it downloads is linked back afterwards
                cache=$LIVEIMAGE_CACHE pattern=$LIVEIMAGE_CACHE_PATTERN
                archives=${LIVEIMAGE_WORK%/*}/archives
                rm -rf "$archives"
                mkdir -p "$archives/partial" "$cache"
                find "$cache" -maxdepth 1 -name "$pattern" -exec cp -l -t "$archives" {} + 2>/dev/null \
                    || find "$cache" -maxdepth 1 -name "$pattern" -exec cp -t "$archives" {} +
                mount --bind "$archives" "$root$LIVEIMAGE_CACHE_DIR"
            fi
        fi
        unset LIVEIMAGE_OVERLAY_OPTIONS LIVEIMAGE_LOWER LIVEIMAGE_UPPER LIVEIMAGE_WORK LIVEIMAGE_CACHE LIVEIMAGE_CACHE_DIR LIVEIMAGE_CACHE_PATTERN LIVEIMAGE_SYSTEM
        set +e
        if [ "$LIVEIMAGE_MODE" = chroot ]; then chroot "$root" "$@"; else "$@"; fi
        rc=$?
        if [ -n "${archives:-}" ]; then
            # a link, or a copy under a temporary name: a killed build never leaves a truncated .deb in the cache
            for f in "$archives"/$pattern; do
                [ -e "$f" ] || continue; n=${f##*/}; [ -e "$cache/$n" ] && continue
                ln "$f" "$cache/$n" 2>/dev/null || { cp "$f" "$cache/.$n.part" && mv -f "$cache/.$n.part" "$cache/$n"; }
            done
            rm -rf "$archives"
        fi
        for p in /proc/[0-9]*; do
            [ "${p#/proc/}" = 1 ] && continue
            cmd=$(tr '\0' ' ' < "$p/cmdline" 2>/dev/null) || continue
            case "$cmd" in ''|"tr "*) continue ;; esac
            echo "LIVEIMAGE-LEFTOVER: $cmd" >&2
        done
        exit $rc
        """;
}
