using LiveImage.Tasks.Processes;

namespace LiveImage.Tasks.Rootfs;

/// <summary>
/// What a build without root needs from the host, checked before any long work so that each lack is
/// one coded error naming the fix: subordinate id ranges for the user, a kernel that lets ordinary
/// users create user namespaces, and newuidmap/newgidmap to map the ranges.
/// </summary>
internal sealed class RootlessPreflight
{
    public required string User { get; init; }
    public required uint Uid { get; init; }
    public string SubuidFile { get; init; } = "/etc/subuid";
    public string SubgidFile { get; init; } = "/etc/subgid";
    /// <summary>Where the kernel's settings are read (/proc/sys); a test points it at files of its own.</summary>
    public string SysctlDirectory { get; init; } = "/proc/sys";
    /// <summary>Where newuidmap/newgidmap are looked for (null: PATH and sbin).</summary>
    public string? ToolSearchPath { get; init; }

    /// <summary>Each problem as a resource name and its arguments; empty when a rootless build can start.</summary>
    public IEnumerable<(string Resource, object[] Args)> Problems()
    {
        foreach (var (file, kind, option) in new[] { (SubuidFile, "user", "uid"), (SubgidFile, "group", "gid") })
        {
            if (SubordinateIds.Find(file, User, Uid) is not null) continue;
            var start = SubordinateIds.FreeStart(file);
            var end = start + SubordinateIds.Needed - 1;
            yield return (nameof(Strings.NoSubordinateIds), [User, kind, file, $"{User}:{start}:{SubordinateIds.Needed}", option, start, end]);
        }
        foreach (var (setting, allowed) in ForbiddingSettings())
            yield return (nameof(Strings.UserNamespacesForbidden), [setting, allowed]);
        foreach (var tool in new[] { "newuidmap", "newgidmap" })
            if (HostTools.Find(tool, ToolSearchPath) is null) yield return (nameof(Strings.MissingIdMapTool), [tool]);
    }

    /// <summary>
    /// The kernel settings that forbid an ordinary user's namespaces, each with the value that allows
    /// them: Debian's own switch, the general limit, and Ubuntu's AppArmor restriction.
    /// </summary>
    private IEnumerable<(string Setting, string Allowed)> ForbiddingSettings()
    {
        if (Read("kernel/unprivileged_userns_clone") == "0") yield return ("kernel.unprivileged_userns_clone", "1");
        if (Read("user/max_user_namespaces") == "0") yield return ("user.max_user_namespaces", "15000");
        if (Read("kernel/apparmor_restrict_unprivileged_userns") == "1") yield return ("kernel.apparmor_restrict_unprivileged_userns", "0");
    }

    private string? Read(string setting)
    {
        var path = Path.Combine(SysctlDirectory, setting);
        return File.Exists(path) ? File.ReadAllText(path).Trim() : null;
    }
}
