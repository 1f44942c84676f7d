namespace LiveImage.Tasks.Emulation;

/// <summary>One binfmt_misc handler as the kernel shows it in /proc/sys/fs/binfmt_misc/&lt;name&gt;.</summary>
internal sealed record BinfmtEntry(bool Enabled, string Interpreter, string Flags)
{
    /// <summary>
    /// F ("fix binary"): the kernel opened the interpreter when the handler was registered, so it
    /// runs inside any chroot or mount namespace, also where the image has no qemu binary.
    /// </summary>
    public bool FixBinary => Flags.Contains('F', StringComparison.Ordinal);

    /// <summary>Parses the entry's text: "enabled", "interpreter /usr/libexec/...", "flags: PF", "offset 0", "magic ...".</summary>
    public static BinfmtEntry Parse(string text)
    {
        var enabled = false;
        var interpreter = "";
        var flags = "";
        foreach (var raw in text.Split('\n'))
        {
            var line = raw.Trim();
            if (line == "enabled") enabled = true;
            else if (line.StartsWith("interpreter ", StringComparison.Ordinal)) interpreter = line["interpreter ".Length..].Trim();
            else if (line.StartsWith("flags:", StringComparison.Ordinal)) flags = line["flags:".Length..].Trim();
        }
        return new BinfmtEntry(enabled, interpreter, flags);
    }
}

/// <summary>Why a handler cannot serve a build, and the command (run as root) that fixes it.</summary>
internal sealed record BinfmtProblem(string Reason, string Command);

/// <summary>
/// The host side of foreign-architecture builds: qemu-user registered with the kernel's binfmt_misc.
/// The build only reads the registrations here; <see cref="BinfmtSession"/> changes them, and only
/// when RegisterBinfmt=true allows it.
/// </summary>
internal static class Binfmt
{
    public const string MountPoint = "/proc/sys/fs/binfmt_misc";

    /// <summary>Whether /proc/mounts (its text) has binfmt_misc mounted at <see cref="MountPoint"/>.</summary>
    public static bool IsMounted(string procMounts) =>
        procMounts.Split('\n').Select(l => l.Split(' ')).Any(f => f.Length > 2 && f[1] == MountPoint && f[2] == "binfmt_misc");

    /// <summary>
    /// What is wrong with <paramref name="handler"/> for a build, or null when it is ready: binfmt_misc
    /// mounted and enabled, the handler registered, enabled and with the F flag.
    /// </summary>
    /// <param name="status">The text of binfmt_misc/status, or null when unreadable.</param>
    /// <param name="entry">The text of binfmt_misc/&lt;handler&gt;, or null when there is no such entry.</param>
    public static BinfmtProblem? Diagnose(string handler, bool mounted, string? status, string? entry)
    {
        if (!mounted)
            return new($"binfmt_misc is not mounted at {MountPoint}",
                $"mount -t binfmt_misc binfmt_misc {MountPoint} && update-binfmts --enable {handler}");
        if (status?.Trim() == "disabled")
            return new($"binfmt_misc is switched off as a whole ({MountPoint}/status says 'disabled')",
                $"echo 1 > {MountPoint}/status");
        if (entry is null)
            return new($"the handler {handler} is not registered",
                $"update-binfmts --enable {handler}");
        var e = BinfmtEntry.Parse(entry);
        if (!e.Enabled)
            return new($"the handler {handler} is registered but disabled",
                $"echo 1 > {MountPoint}/{handler}");
        if (!e.FixBinary)
            return new($"the handler {handler} (interpreter {e.Interpreter}, flags '{e.Flags}') lacks the F flag, so programs inside the image root cannot reach the interpreter; qemu-user-static's handler has it ('fix_binary yes')",
                $"update-binfmts --disable {handler} && update-binfmts --enable {handler}");
        return null;
    }

    /// <summary>Reads the host's state and diagnoses <paramref name="handler"/>.</summary>
    public static BinfmtProblem? Check(string handler)
    {
        var mounted = IsMounted(ReadOrNull("/proc/mounts") ?? "");
        return Diagnose(handler, mounted,
            mounted ? ReadOrNull(Path.Combine(MountPoint, "status")) : null,
            mounted ? ReadOrNull(Path.Combine(MountPoint, handler)) : null);
    }

    private static string? ReadOrNull(string path)
    {
        try { return File.ReadAllText(path); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { return null; }
    }
}
