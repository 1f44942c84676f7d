using LiveImage.Tasks.Diagnostics;

namespace LiveImage.Tasks.Distributions.Debian;

/// <summary>
/// Debian's bootstrap: mmdebstrap. The kernel, live-boot and the other packages the SDK needs are
/// installed here without Recommends; the user's packages come later, through apt with Recommends.
/// </summary>
internal static class Mmdebstrap
{
    public static ToolPlan Command(BootstrapOptions o)
    {
        var tmp = Path.Combine(Path.GetFullPath(o.ScratchDirectory), "tmp");
        Rootfs.UserNamespace.RemoveTree(tmp);
        Directory.CreateDirectory(tmp);
        var env = new Dictionary<string, string> { ["TMPDIR"] = tmp };
        var args = new List<string>
        {
            "mmdebstrap", "--mode=root", $"--variant={o.Variant}", $"--architectures={o.Architecture}",
            $"--components={o.Components.Replace(';', ',')}",
            // apt lists stay for the package stage; the finalize stage removes them
            "--skip=cleanup/apt/lists",
        };
        if (o.IncludePackages.Count > 0) args.Add("--include=" + string.Join(',', o.IncludePackages));
        foreach (var keyring in o.Keyrings) args.Add($"--keyring={keyring}");
        if (o.GrubEfiPackage.Length > 0)
        {
            // before the cache hooks: it looks for the .deb among the cached ones they link in and take out
            env["LIVEIMAGE_GRUB_PACKAGE"] = o.GrubEfiPackage;
            env["LIVEIMAGE_GRUB_DIR"] = Path.GetFullPath(o.GrubEfiFetchDirectory);
            args.Add("--customize-hook=" + FetchGrubScript);
        }
        if (o.LockPreferences.Length > 0)
        {
            // the lock file's versions while mmdebstrap's apt resolves (its Dir is the new root), gone before the image
            // is done; the file waits beside mmdebstrap's TMPDIR, not in it (that one is left empty)
            var preferences = Path.Combine(Path.GetFullPath(o.ScratchDirectory), "package-lock.pref");
            File.WriteAllText(preferences, o.LockPreferences);
            env["LIVEIMAGE_LOCK_PREFERENCES"] = preferences;
            args.Add($"--setup-hook=mkdir -p \"$1/etc/apt/preferences.d\" && cp \"$LIVEIMAGE_LOCK_PREFERENCES\" \"$1/{Apt.LockPreferencesFile}\"");
            args.Add($"--customize-hook=rm -f \"$1/{Apt.LockPreferencesFile}\"");
        }
        if (o.PackageCache.Length > 0) AddCacheHooks(o, args, env);
        else if (o.Offline) throw new LiveImageException(nameof(Strings.OfflineWithoutCache), o.Suite, o.Architecture, "(PackageCacheDirectory is empty)");
        if (MergedUsrHooks(o, env.GetValueOrDefault("LIVEIMAGE_LISTS")) is { } hooks) args.Add($"--hook-dir={hooks}");
        // one initramfs instead of two: the kernel's postinst skips it (INITRD=No), so live-boot's
        // trigger finds none to update, and it is made once at the end (minutes under emulation)
        env["INITRD"] = "No";
        if (o.SourceDateEpochFile.Length > 0)
        {
            env["LIVEIMAGE_SOURCE_DATE_EPOCH"] = o.SourceDateEpoch;
            env["LIVEIMAGE_SOURCE_DATE_EPOCH_FILE"] = Path.GetFullPath(o.SourceDateEpochFile);
            env["LIVEIMAGE_SUITE"] = o.Suite;
            args.Add(SourceDateEpochHook);
        }
        args.Add(InitramfsHook);
        args.Add(o.Suite);
        args.Add(o.Root);
        if (o.Mirror.Length > 0) args.Add($"deb {o.Mirror} {o.Suite} {o.Components.Replace(';', ' ').Replace(',', ' ')}");

        return new ToolPlan("mmdebstrap", $"mmdebstrap {o.Suite} ({o.Variant})", args, env);
    }

    /// <summary>
    /// Makes the initramfs of every installed kernel, once, with live-boot's scripts in it; with the
    /// image's SOURCE_DATE_EPOCH (when there is one) initramfs-tools writes the same archive every time.
    /// </summary>
    internal const string InitramfsHook = """--customize-hook=if [ -n "$(ls "$1"/boot/vmlinu* 2>/dev/null)" ]; then if [ -n "$(ls "$1"/boot/initrd.img-* 2>/dev/null)" ]; then echo "an initramfs was made during the install already"; fi; sde=$(cat "${LIVEIMAGE_SOURCE_DATE_EPOCH_FILE:-/nonexistent}" 2>/dev/null || true); if [ -n "$sde" ]; then export SOURCE_DATE_EPOCH=$sde; fi; INITRD= chroot "$1" update-initramfs -c -k all; fi""";

    /// <summary>
    /// The image's SOURCE_DATE_EPOCH: the property's, else the Date of the suite's (In)Release file
    /// in the package lists the bootstrap used (never the clock), written for the stages above.
    /// </summary>
    internal const string SourceDateEpochHook = """--customize-hook=set -e; sde=$LIVEIMAGE_SOURCE_DATE_EPOCH; if [ -z "$sde" ]; then f=$(ls "$1"/var/lib/apt/lists/*_dists_"$LIVEIMAGE_SUITE"_InRelease "$1"/var/lib/apt/lists/*_dists_"$LIVEIMAGE_SUITE"_Release 2>/dev/null | head -n 1); d=$(sed -n 's/^Date: //p' "$f" | head -n 1); [ -n "$d" ] || { echo "no Date in the $LIVEIMAGE_SUITE Release file ($f)" >&2; exit 1; }; sde=$(date -u -d "$d" +%s); fi; echo "$sde" > "$LIVEIMAGE_SOURCE_DATE_EPOCH_FILE"; echo "SOURCE_DATE_EPOCH=$sde ($(date -u -d "@$sde"))" """;

    /// <summary>
    /// Unpacks the GRUB EFI package of the image's architecture from the image's archive (with the
    /// host's apt and mmdebstrap's apt configuration, so no emulation is needed): the package cache's
    /// copy when there is one (offline builds), else a download, which then goes into the cache.
    /// </summary>
    private const string FetchGrubScript = """
        set -e; export APT_CONFIG="$MMDEBSTRAP_APT_CONFIG"; pkg=$LIVEIMAGE_GRUB_PACKAGE; out=$LIVEIMAGE_GRUB_DIR
        file=$(apt-get download --print-uris "$pkg" | sed -n "s/^'[^']*' \([^ ]*\) .*/\1/p" | head -n 1)
        [ -n "$file" ] || { echo "$pkg is not in the image's archive" >&2; exit 1; }
        deb=; tmp=
        for d in "$1/var/cache/apt/archives" "${LIVEIMAGE_DEBCACHE:-}"; do [ -n "$d" ] && [ -f "$d/$file" ] && { deb=$d/$file; break; }; done
        if [ -z "$deb" ]; then tmp=$(mktemp -d); (cd "$tmp" && apt-get -q download "$pkg"); deb=$tmp/$file; fi
        rm -rf "$out"; mkdir -p "$out"; dpkg-deb -x "$deb" "$out"
        if [ -n "${LIVEIMAGE_DEBCACHE:-}" ] && [ ! -e "$LIVEIMAGE_DEBCACHE/$file" ]; then cp "$deb" "$LIVEIMAGE_DEBCACHE/.$file.part" && mv -f "$LIVEIMAGE_DEBCACHE/.$file.part" "$LIVEIMAGE_DEBCACHE/$file"; fi
        [ -z "$tmp" ] || rm -rf "$tmp"
        echo "GRUB EFI modules for the boot image: $file, unpacked in $out (not installed in the image)"
        """;

    /// <summary>
    /// Merged /usr without the usrmerge package (which would pull perl into the image).
    /// mmdebstrap's maybe-merged-usr hook decides by running apt-get update, which an offline
    /// build cannot: it decides the same way from the cached lists instead.
    /// </summary>
    private static string? MergedUsrHooks(BootstrapOptions o, string? cachedLists)
    {
        const string hooks = "/usr/share/mmdebstrap/hooks/";
        if (!o.Offline) return Directory.Exists(hooks + "maybe-merged-usr") ? hooks + "maybe-merged-usr" : null;
        var merged = Directory.EnumerateFiles(cachedLists!, "*_Packages")
            .Any(f => File.ReadLines(f).Any(l => l == "Package: usr-is-merged"));
        return merged && Directory.Exists(hooks + "merged-usr") ? hooks + "merged-usr" : null;
    }

    /// <summary>
    /// Seeds the bootstrap with the shared .deb cache and adds what it downloaded, the way
    /// mmdebstrap's manual describes (sync-in/sync-out), with links instead of copies.
    /// </summary>
    private static void AddCacheHooks(BootstrapOptions o, List<string> args, Dictionary<string, string> env)
    {
        Directory.CreateDirectory(o.PackageCache);
        env["LIVEIMAGE_DEBCACHE"] = Path.GetFullPath(o.PackageCache);
        args.Add("--skip=download/empty");
        args.Add("--skip=essential/unlink");
        args.Add("""--setup-hook=mkdir -p "$1/var/cache/apt/archives" && for f in "$LIVEIMAGE_DEBCACHE"/*.deb; do [ -e "$f" ] || continue; ln -f "$f" "$1/var/cache/apt/archives/" 2>/dev/null || cp "$f" "$1/var/cache/apt/archives/"; done""");
        // the package lists are kept too, per suite, architecture and sources, for offline builds
        var lists = CachedLists(o);
        env["LIVEIMAGE_LISTS"] = lists;
        if (o.Offline)
        {
            if (!Directory.Exists(lists)) throw new LiveImageException(nameof(Strings.OfflineWithoutCache), o.Suite, o.Architecture, lists);
            args.Add("--skip=update");
            args.Add("""--setup-hook=mkdir -p "$1/var/lib/apt/lists" && cp -a "$LIVEIMAGE_LISTS/." "$1/var/lib/apt/lists/" """);
        }
        args.Add("""--customize-hook=rm -rf "$LIVEIMAGE_LISTS.new" && mkdir -p "$LIVEIMAGE_LISTS.new" && cp -a "$1/var/lib/apt/lists/." "$LIVEIMAGE_LISTS.new/" && rm -rf "$LIVEIMAGE_LISTS" && mv "$LIVEIMAGE_LISTS.new" "$LIVEIMAGE_LISTS" """);
        args.Add("""--customize-hook=for f in "$1"/var/cache/apt/archives/*.deb; do [ -e "$f" ] || continue; n=${f##*/}; [ -e "$LIVEIMAGE_DEBCACHE/$n" ] || { cp "$f" "$LIVEIMAGE_DEBCACHE/.$n.part" && mv -f "$LIVEIMAGE_DEBCACHE/.$n.part" "$LIVEIMAGE_DEBCACHE/$n"; }; rm -f "$f"; done""");
    }

    /// <summary>The package cache's copy of the lists of this suite, architecture and sources.</summary>
    internal static string CachedLists(BootstrapOptions o)
    {
        var key = Convert.ToHexString(System.Security.Cryptography.SHA256.HashData(System.Text.Encoding.UTF8.GetBytes($"{o.Mirror}|{o.Components}")))[..12];
        return Path.Combine(Path.GetFullPath(o.PackageCache), "lists", $"{o.Suite}-{o.Architecture}-{key}");
    }

    /// <summary>The Date of every Release file in the cached lists (the suite's, its updates', ...), by file name.</summary>
    internal static IReadOnlyList<string> ReleaseDates(BootstrapOptions o)
    {
        if (o.PackageCache.Length == 0 || CachedLists(o) is not { } lists || !Directory.Exists(lists)) return [];
        return [.. Directory.EnumerateFiles(lists, "*Release").Where(f => f.EndsWith("_InRelease", StringComparison.Ordinal) || f.EndsWith("_Release", StringComparison.Ordinal))
            .Order(StringComparer.Ordinal)
            .Select(f => $"release {Path.GetFileName(f)} {File.ReadLines(f).FirstOrDefault(l => l.StartsWith("Date: ", StringComparison.Ordinal))?[6..]}")];
    }
}
