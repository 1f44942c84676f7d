namespace LiveImage.Tasks.BootTesting;

/// <summary>
/// The checks the boot test runs in every booted image, before the project's BootCheck items:
/// the commands typed into the guest and the pure functions that judge their output.
/// </summary>
internal static class QemuBuiltInChecks
{
    /// <summary>Runs a command as root through sudo, with a prompt the boot test recognises and answers.</summary>
    public const string SudoPrefix = "sudo -p 'LIVEIMAGE''_SUDO: ' ";

    private static string SystemState(int waitSeconds) =>
        $"echo \"state: $(timeout {waitSeconds} systemctl is-system-running --wait 2>&1)\"; " +
        "SYSTEMD_COLORS=0 systemctl --failed --no-legend --plain --no-pager 2>&1";

    /// <summary>
    /// How long the boot may still be starting after the login prompt: half the boot timeout, at least
    /// 120 s (a desktop under TCG starts units for many minutes after the console login appears).
    /// </summary>
    public static int SystemStateWaitSeconds(TimeSpan bootTimeout) => Math.Max(120, (int)bootTimeout.TotalSeconds / 2);

    /// <summary>
    /// Waits (at most <paramref name="waitSeconds"/>) for the boot to finish, then prints the system state and the failed units.
    /// <c>is-system-running --wait</c> returns once the boot job queue is empty. A user other than root
    /// needs D-Bus to ask systemd, which a minimal image lacks, so it goes through sudo when it can
    /// (root talks to systemd's private socket).
    /// </summary>
    public static string SystemStateCommand(bool viaSudo, int waitSeconds = 120) =>
        viaSudo ? SudoPrefix + "sh -c " + QemuShellCommand.Quote(SystemState(waitSeconds)) : SystemState(waitSeconds);

    /// <summary>systemctl's answer when it cannot reach systemd (no D-Bus for a user other than root).</summary>
    public static bool NoBus(string output) => output.Contains("Failed to connect to", StringComparison.Ordinal) && output.Contains("bus", StringComparison.Ordinal);

    /// <summary>The time the system-state command may take: its own wait and a minute more.</summary>
    public static TimeSpan SystemStateTimeout(int waitSeconds) => TimeSpan.FromSeconds(waitSeconds + 60);

    /// <summary>Root's shadow entry, read through sudo (the boot test answers sudo's password prompt).</summary>
    public const string RootShadowCommand = SudoPrefix + "getent shadow root";

    /// <summary>sudo's prompt as the shell prints it (the echo of the typed command still has the quotes).</summary>
    public const string SudoPrompt = "LIVEIMAGE_SUDO: ";

    /// <summary>Every apt source file, each after a "==> path" line.</summary>
    public const string AptSourcesCommand =
        "for f in /etc/apt/sources.list /etc/apt/sources.list.d/*; do [ -f \"$f\" ] && { echo \"==> $f\"; cat \"$f\"; echo; }; done; true";

    public const string PolicyRcDCommand = "test ! -e /usr/sbin/policy-rc.d";

    /// <summary>The state printed by <see cref="SystemStateCommand"/> and the failed units listed after it.</summary>
    public static (string State, IReadOnlyList<string> FailedUnits) ParseSystemState(string output)
    {
        var state = "";
        var failed = new List<string>();
        foreach (var raw in output.Split('\n'))
        {
            var line = raw.Trim();
            if (line.StartsWith("state:", StringComparison.Ordinal)) { state = line[6..].Trim(); continue; }
            if (line.Length == 0) continue;
            var unit = line.TrimStart('●', '*', ' ').Split(' ', StringSplitOptions.RemoveEmptyEntries).FirstOrDefault() ?? "";
            if (unit.Contains('.') && !failed.Contains(unit)) failed.Add(unit);
        }
        return (state, failed);
    }

    /// <summary>Running and degraded (some unit failed, the system is up) pass; anything else (starting, maintenance, …) fails.</summary>
    public static bool SystemStateIsAcceptable(string state) => state is "running" or "degraded";

    /// <summary>
    /// Whether root's password is locked, from the output of <see cref="RootShadowCommand"/>: the
    /// hash starts with '!' (usermod --lock) or is '*' (never set); null when there is no root line.
    /// </summary>
    public static bool? RootPasswordIsLocked(string output)
    {
        foreach (var raw in output.Split('\n'))
        {
            var line = raw.Trim();
            if (!line.StartsWith("root:", StringComparison.Ordinal)) continue;
            var fields = line.Split(':');
            if (fields.Length < 2) return null;
            return fields[1].StartsWith('!') || fields[1].StartsWith('*');
        }
        return null;
    }

    /// <summary>One archive URI an apt source file names.</summary>
    internal sealed record AptSource(string File, string Uri, bool Trusted);

    /// <summary>
    /// The enabled sources in the output of <see cref="AptSourcesCommand"/>: one-line <c>deb</c>/<c>deb-src</c>
    /// entries and deb822 stanzas (<c>URIs:</c>, <c>Enabled: no</c>, <c>Trusted: yes</c>).
    /// </summary>
    public static IReadOnlyList<AptSource> ParseAptSources(string output)
    {
        var result = new List<AptSource>();
        var file = "";
        var stanza = new List<string>();
        void EndStanza()
        {
            if (stanza.Count == 0) return;
            string? Field(string name) => stanza
                .Where(l => l.StartsWith(name + ":", StringComparison.OrdinalIgnoreCase))
                .Select(l => l[(name.Length + 1)..].Trim())
                .FirstOrDefault();
            var enabled = !string.Equals(Field("Enabled"), "no", StringComparison.OrdinalIgnoreCase);
            var trusted = string.Equals(Field("Trusted"), "yes", StringComparison.OrdinalIgnoreCase);
            if (enabled && Field("URIs") is { } uris)
                result.AddRange(uris.Split(' ', StringSplitOptions.RemoveEmptyEntries).Select(u => new AptSource(file, u, trusted)));
            stanza.Clear();
        }

        foreach (var raw in output.Split('\n'))
        {
            var line = raw.TrimEnd();
            if (line.StartsWith("==> ", StringComparison.Ordinal))
            {
                EndStanza();
                file = line[4..].Trim();
                continue;
            }
            var hash = line.IndexOf('#');
            var content = (hash >= 0 ? line[..hash] : line).Trim();
            if (file.EndsWith(".sources", StringComparison.Ordinal))
            {
                if (content.Length == 0) EndStanza();
                else stanza.Add(content);
                continue;
            }
            if (content.Length == 0) continue;
            var words = content.Split(' ', StringSplitOptions.RemoveEmptyEntries).ToList();
            if (words[0] is not ("deb" or "deb-src")) continue;
            words.RemoveAt(0);
            var trusted = false;
            if (words.Count > 0 && words[0].StartsWith('['))
            {
                var options = new List<string>();
                while (words.Count > 0)
                {
                    var w = words[0];
                    words.RemoveAt(0);
                    options.Add(w.Trim('[', ']'));
                    if (w.EndsWith(']')) break;
                }
                trusted = options.Any(o => o.Equals("trusted=yes", StringComparison.OrdinalIgnoreCase));
            }
            if (words.Count > 0) result.Add(new AptSource(file, words[0], trusted));
        }
        EndStanza();
        return result;
    }

    /// <summary>
    /// What is wrong with the image's apt sources: none may be a build-only source (a local file:,
    /// copy: or cdrom: archive, a source on the build machine's loopback address, or one marked
    /// trusted). With an image mirror, the main archive must be it and the build mirror must be gone;
    /// the bootstrapped security archive stays as it was. The image's own AptSource URIs are always
    /// allowed: the project asked for them. Empty when all is well.
    /// </summary>
    public static IReadOnlyList<string> AptSourceProblems(IReadOnlyList<AptSource> sources, string? imageMirror,
        IReadOnlyList<string>? imageAptSources = null, string? buildMirror = null)
    {
        var problems = new List<string>();
        var mirror = string.IsNullOrWhiteSpace(imageMirror) ? null : Normalise(imageMirror);
        var build = string.IsNullOrWhiteSpace(buildMirror) ? null : Normalise(buildMirror);
        var declared = (imageAptSources ?? []).Select(Normalise).ToHashSet(StringComparer.Ordinal);
        foreach (var s in sources)
        {
            var uri = Normalise(s.Uri);
            if (declared.Contains(uri) || uri == mirror) continue;
            if (mirror is not null && uri == build) problems.Add($"{s.File}: '{s.Uri}' is the build mirror, not the image mirror '{imageMirror}'");
            else if (BuildOnlyReason(s) is { } why) problems.Add($"{s.File}: '{s.Uri}' {why}");
        }
        if (mirror is not null && !sources.Any(s => Normalise(s.Uri) == mirror))
            problems.Add($"no source names the image mirror '{imageMirror}'");
        return problems;
    }

    /// <summary>The failed units that <paramref name="allowed"/> (names or globs with '*' and '?') does not cover.</summary>
    public static IReadOnlyList<string> NotAllowed(IReadOnlyList<string> failedUnits, IReadOnlyList<string> allowed) =>
        failedUnits.Where(unit => !allowed.Any(pattern => System.IO.Enumeration.FileSystemName.MatchesSimpleExpression(pattern, unit, ignoreCase: false))).ToList();

    private static string? BuildOnlyReason(AptSource s)
    {
        if (s.Trusted) return "is marked trusted (a build-time source)";
        var colon = s.Uri.IndexOf(':');
        var scheme = colon > 0 ? s.Uri[..colon].ToLowerInvariant() : "";
        if (scheme is "file" or "copy" or "cdrom") return $"is a local {scheme}: archive (a build-time source)";
        if (!Uri.TryCreate(s.Uri, UriKind.Absolute, out var uri)) return "is not a URL";
        if (uri.IsLoopback) return "is on the build machine's loopback address (a build-time source)";
        return null;
    }

    private static string Normalise(string uri)
    {
        var u = uri.Trim();
        if (Uri.TryCreate(u, UriKind.Absolute, out var parsed))
            u = parsed.Scheme.ToLowerInvariant() + "://" + parsed.Authority.ToLowerInvariant() + parsed.AbsolutePath;
        return u.TrimEnd('/');
    }
}
