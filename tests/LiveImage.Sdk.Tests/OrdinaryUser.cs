namespace LiveImage.Sdk.Tests;

/// <summary>
/// An ordinary user for the tests of builds without root (CI runs as root): created when missing,
/// with a range of 65536 subordinate ids unless <paramref name="withSubordinateIds"/> is false. Builds
/// run as the user through runuser, with its own HOME, .NET CLI home and NuGet folder.
/// </summary>
internal sealed class OrdinaryUser
{
    public string Name { get; }
    public string Home => $"/home/{Name}";

    public OrdinaryUser(string name, bool withSubordinateIds = true)
    {
        Name = name;
        if (Tools.Run("id", "-u", name).ExitCode != 0)
            Assert.Equal(0, Tools.Run("useradd", "--create-home", "--shell", "/bin/sh", name).ExitCode);
        foreach (var file in new[] { "/etc/subuid", "/etc/subgid" })
        {
            var lines = File.Exists(file) ? File.ReadAllLines(file).ToList() : [];
            var others = lines.Where(l => !l.StartsWith(name + ":")).ToList();
            if (withSubordinateIds)
            {
                if (lines.Any(l => l.StartsWith(name + ":"))) continue;
                var start = others.Select(l => l.Split(':')).Where(p => p.Length == 3).Select(p => long.Parse(p[1]) + long.Parse(p[2])).Append(100000).Max();
                others.Add($"{name}:{start}:65536");
            }
            File.WriteAllLines(file, others);
        }
    }

    /// <summary>Gives the user a directory tree (a workspace it builds in).</summary>
    public void Own(string directory) => Assert.Equal(0, Tools.Run("chown", "-R", $"{Name}:", directory).ExitCode);

    /// <summary>The wrapper that runs dotnet as the user with its own homes (Workspace.Run's wrapper).</summary>
    public string[] Wrapper(Workspace workspace) =>
        ["runuser", "-u", Name, "--", "env", $"HOME={Home}", $"DOTNET_CLI_HOME={Home}", $"NUGET_PACKAGES={workspace.NuGetPackages}",
         "DOTNET_CLI_TELEMETRY_OPTOUT=1", "DOTNET_NOLOGO=1", "DOTNET_SKIP_FIRST_TIME_EXPERIENCE=1"];

    /// <summary>Runs a program as the user in its mapped user namespace (as root of it): to copy or remove files of a rootless build.</summary>
    public (int ExitCode, string Output) InNamespace(params string[] command) =>
        Tools.Run("runuser", ["-u", Name, "--", "unshare", "--user", "--map-auto", "--map-root-user", .. command]);
}
