namespace LiveImage.Sdk.Tests;

/// <summary>
/// packages.lock.amd64 on the built minimal sample: it lists what dpkg lists in the image; a lock pinning an
/// older version the archives still serve installs it, and -t:Refresh moves it to the candidate, rerunning
/// the package stage only (and a second Refresh changes and reruns nothing); LockedMode refuses a package
/// the lock lacks before any stage runs; dotnet clean keeps the lock.
/// </summary>
[Collection(MinimalImageCollection.Name)]
public sealed class PackageLockImageTests(MinimalImageFixture image, ITestOutputHelper output)
{
    private const string Lock = "packages.lock.amd64";

    [Fact]
    public void The_lock_file_lists_every_package_dpkg_lists_in_the_image()
    {
        Assert.True(image.ColdBuild.Succeeded, "the cold build of the minimal sample failed");
        Assert.Contains($"lock [amd64]: {Path.Combine(image.ProjectDirectory, Lock)} written", image.ColdBuild.Output);
        var lines = File.ReadAllLines(Path.Combine(image.ProjectDirectory, Lock));
        var packages = lines.Where(l => l.Length > 0 && !l.StartsWith('#') && !l.StartsWith('[') && l.Split(' ').Length == 3).ToList();
        // dpkg-query -W, as the finalize stage ran it in the image
        var installed = Tools.ReadFromSquashfs(image.Squashfs, "var/lib/liveimage-packages.manifest").Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.True(installed.Length > 50, $"only {installed.Length} packages in the image's manifest");
        Assert.Equal(installed.Order(StringComparer.Ordinal), packages.Order(StringComparer.Ordinal));
        // the sample's own package comes from the package stage, the rest from the bootstrap; the suite's date heads it
        Assert.Equal(["[archives]", "[bootstrap]", "[packages]"], lines.Where(l => l.StartsWith('[')));
        Assert.Equal(lines.SkipWhile(l => l != "[packages]").Skip(1).ToList(), packages.Where(p => p.StartsWith("less ")).ToList());
        Assert.Matches(@"^trixie \d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$", lines.SkipWhile(l => l != "[archives]").Skip(1).First());
    }

    [Fact]
    public void An_older_locked_version_is_installed_and_refresh_moves_it_to_the_candidate_rerunning_only_the_package_stage()
    {
        var copy = image.CopyOfBuiltImage("lock-older");
        var (name, older, newer) = PackageWithTwoVersions(copy);
        output.WriteLine($"{name}: locked {older}, candidate {newer}");
        MinimalImageFixture.AddItems(copy, $"""<Package Include="{name}" Recommends="false" />""");
        var lockFile = Path.Combine(copy, Lock);
        File.WriteAllText(lockFile, File.ReadAllText(lockFile).Replace("[packages]\n", $"[packages]\n{name} {older} all\n"));

        var build = image.Workspace.Build(copy, output, "-t:LiveImageIncludes");
        Assert.True(build.Succeeded, "the build with the older version locked failed");
        Assert.Equal(older, InstalledVersion(copy, name));
        Assert.Contains($"{name} {older} all", File.ReadAllText(lockFile));

        var refresh = image.Workspace.Build(copy, output, "-t:Refresh");
        Assert.True(refresh.Succeeded, "-t:Refresh failed");
        Assert.Contains($"refresh [amd64]: 1 package(s) changed version ({name} {older} -> {newer})", refresh.Output);
        Assert.Contains("packages [amd64]: runs because PackageLock changed", refresh.Output);
        Assert.DoesNotContain("bootstrap [amd64]: runs because", refresh.Output);
        Assert.Contains($"{name} {newer} all", File.ReadAllText(lockFile));
        Assert.Contains($"{name} {newer} all", File.ReadAllText(Path.Combine(copy, "bin/Release/amd64/debian-live-minimal-1.0.0-amd64.packages")));

        // the archives have not changed since: nothing is rewritten, no stage reruns
        var stamps = Directory.GetFiles(Path.Combine(copy, "obj/Release/amd64"), "*.stamp").ToDictionary(f => f, File.GetLastWriteTimeUtc);
        var lockTime = File.GetLastWriteTimeUtc(lockFile);
        var again = image.Workspace.Build(copy, output, "-t:Refresh");
        Assert.True(again.Succeeded, "the second -t:Refresh failed");
        Assert.Contains("refresh [amd64]: 0 package(s) changed version", again.Output);
        Assert.DoesNotContain("runs because", again.Output);
        Assert.Equal(lockTime, File.GetLastWriteTimeUtc(lockFile));
        Assert.All(stamps, s => Assert.Equal(s.Value, File.GetLastWriteTimeUtc(s.Key)));
    }

    [Fact]
    public void Locked_mode_names_a_package_the_lock_lacks_and_clean_keeps_the_lock()
    {
        var copy = image.CopyOfBuiltImage("lock-locked-mode", """<Package Include="tmux" />""");
        var build = image.Workspace.Build(copy, output, "-p:LockedMode=true");
        Assert.False(build.Succeeded, "LockedMode accepted a package the lock file lacks");
        Assert.Matches(@"error LIVE1100: Package 'tmux' is not in the lock file .*packages\.lock\.amd64.*dotnet build -t:Refresh", build.Output);
        Assert.DoesNotContain("runs because", build.Output);

        var lockText = File.ReadAllText(Path.Combine(copy, Lock));
        var clean = image.Workspace.Build(copy, output, "-t:Clean");
        Assert.True(clean.Succeeded, "dotnet clean failed");
        Assert.False(Directory.Exists(Path.Combine(copy, "obj/Release/amd64")));
        Assert.Equal(lockText, File.ReadAllText(Path.Combine(copy, Lock)));
    }

    /// <summary>The version of a package in the package stage's dpkg status.</summary>
    private static string? InstalledVersion(string copy, string name)
    {
        var status = File.ReadAllText(Path.Combine(copy, "obj/Release/amd64/layers/20-packages/var/lib/dpkg/status"));
        return status.Split("\n\n").Select(Fields).Where(f => f.GetValueOrDefault("Package") == name).Select(f => f.GetValueOrDefault("Version")).FirstOrDefault();
    }

    /// <summary>
    /// A small package of no dependencies, not in the image, that the bootstrap's package lists offer in two
    /// versions (the suite's and its -updates' or -security's): the older and the newer (apt's candidate).
    /// </summary>
    private static (string Name, string Older, string Newer) PackageWithTwoVersions(string copy)
    {
        var installed = File.ReadAllLines(Path.Combine(copy, Lock)).Select(l => l.Split(' ')[0]).ToHashSet();
        var versions = new Dictionary<string, (HashSet<string> Versions, int Size)>();
        foreach (var list in Directory.GetFiles(Path.Combine(copy, "obj/Release/amd64/layers/00-bootstrap/var/lib/apt/lists"), "*_Packages"))
        {
            foreach (var stanza in File.ReadAllText(list).Split("\n\n").Select(Fields))
            {
                if (stanza.GetValueOrDefault("Architecture") != "all" || stanza.ContainsKey("Depends") || stanza.ContainsKey("Pre-Depends")) continue;
                var name = stanza.GetValueOrDefault("Package", "");
                if (name.Length == 0 || installed.Contains(name)) continue;
                var entry = versions.TryGetValue(name, out var e) ? e : ([], int.Parse(stanza.GetValueOrDefault("Installed-Size", "99999")));
                entry.Versions.Add(stanza["Version"]);
                versions[name] = entry;
            }
        }
        var (package, (found, _)) = versions.Where(v => v.Value.Versions.Count == 2).OrderBy(v => v.Value.Size).ThenBy(v => v.Key, StringComparer.Ordinal).FirstOrDefault();
        Assert.True(package is not null, "no package of the archives has two versions without dependencies");
        var pair = found.ToList();
        var newerFirst = Tools.Run("dpkg", "--compare-versions", pair[0], "gt", pair[1]).ExitCode == 0;
        return newerFirst ? (package, pair[1], pair[0]) : (package, pair[0], pair[1]);
    }

    private static Dictionary<string, string> Fields(string stanza) =>
        stanza.Split('\n').Where(l => l.Length > 0 && !char.IsWhiteSpace(l[0]) && l.Contains(": "))
            .Select(l => l.Split(": ", 2)).GroupBy(f => f[0]).ToDictionary(g => g.Key, g => g.First()[1]);
}
