namespace LiveImage.Tasks.BootTesting;

/// <summary>The accelerator one qemu run uses.</summary>
internal enum QemuAccel
{
    Kvm,
    Tcg,
}

/// <summary>
/// Choosing between KVM and TCG. <c>/dev/kvm</c> can exist and still be unusable: nested or
/// para-virtualised KVM that cannot run real-mode firmware ("KVM internal error ... emulation
/// failure", or the kernel never starts), or a host whose KVM refuses qemu's CPU model so that qemu
/// aborts at once ("failed to set MSR", exit code 134). No list of messages can know every such
/// failure, so with <c>auto</c> the rule is: any KVM run that ends or stalls before the kernel's
/// banner marks KVM unusable, and the verdict is kept for the rest of the process so later boots go
/// straight to TCG.
/// </summary>
internal static class QemuAccelerator
{
    public const string Auto = "auto";
    public const string Kvm = "kvm";
    public const string Tcg = "tcg";
    public static readonly string[] Requests = [Auto, Kvm, Tcg];

    /// <summary>The serial console line every Linux kernel prints first (with console=ttyS0).</summary>
    public const string KernelBanner = "Linux version";

    /// <summary>How long a KVM boot may take to print <see cref="KernelBanner"/> before KVM is judged unusable.</summary>
    public static readonly TimeSpan ProbeTime = TimeSpan.FromSeconds(30);

    public const string DevKvm = "/dev/kvm";
    private static readonly object Gate = new();
    private static string? s_unusableReason;

    /// <summary>Normalises an Accelerator parameter value (empty means auto); null when it is not auto, kvm or tcg.</summary>
    public static string? ParseRequest(string? value)
    {
        var v = string.IsNullOrWhiteSpace(value) ? Auto : value.Trim().ToLowerInvariant();
        return Requests.Contains(v) ? v : null;
    }

    public static string Name(QemuAccel accel) => accel == QemuAccel.Kvm ? Kvm : Tcg;

    /// <summary>Why KVM failed, judged from qemu's own output (stderr); null when nothing there says so.</summary>
    public static string? KvmFailureIn(string qemuOutput)
    {
        string[] markers =
        [
            "emulation failure",
            "KVM internal error",
            "failed to initialize kvm",
            "failed to initialize KVM",
            "Could not access KVM kernel module",
            "KVM not supported",
        ];
        foreach (var line in qemuOutput.Split('\n'))
        {
            if (markers.Any(m => line.Contains(m, StringComparison.Ordinal)))
                return "qemu: " + line.Trim();
        }
        return null;
    }

    /// <summary>
    /// Why a KVM run that ended before the kernel's banner failed, for the one line that tells the
    /// user: qemu's exit code and its first error line (else its last line).
    /// </summary>
    public static string EarlyExitReason(string exitCode, string qemuOutput)
    {
        var lines = qemuOutput.Split('\n').Select(l => l.Trim()).Where(l => l.Length > 0).ToList();
        var line = KvmFailureIn(qemuOutput)
            ?? lines.Where(l => l.Contains("error", StringComparison.OrdinalIgnoreCase)).Select(l => "qemu: " + l).FirstOrDefault()
            ?? (lines.Count > 0 ? "qemu: " + lines[^1] : null);
        return $"qemu exited with code {exitCode} before the kernel started" + (line is null ? "" : ": " + line);
    }

    /// <summary>True when a KVM boot has run for the probe time without the kernel printing its banner.</summary>
    public static bool KernelMissedProbe(TimeSpan elapsed, bool bannerSeen) => !bannerSeen && elapsed >= ProbeTime;

    /// <summary>The cached verdict of an earlier boot in this process, or null when KVM is not known to be unusable.</summary>
    public static string? KnownUnusableReason
    {
        get { lock (Gate) return s_unusableReason; }
    }

    /// <summary>Records that KVM is unusable; true the first time (the caller then tells the user).</summary>
    public static bool MarkUnusable(string reason)
    {
        lock (Gate)
        {
            if (s_unusableReason is not null) return false;
            s_unusableReason = reason;
            return true;
        }
    }

    /// <summary>Forgets the cached verdict (tests only).</summary>
    internal static void ResetForTests()
    {
        lock (Gate) s_unusableReason = null;
    }

    /// <summary>Why this host cannot even try KVM (no /dev/kvm, no access), or null when it can.</summary>
    public static string? HostProblem(string device = DevKvm)
    {
        if (!File.Exists(device)) return device + " does not exist";
        try
        {
            using var handle = File.OpenHandle(device, FileMode.Open, FileAccess.ReadWrite);
            return null;
        }
        catch (Exception e) when (e is UnauthorizedAccessException or IOException)
        {
            return $"cannot open {device} for reading and writing: {e.Message}";
        }
    }
}
