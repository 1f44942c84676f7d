namespace LiveImage.Targets.Tests;

/// <summary>
/// The input side of live-build's habits, on temporary projects that are never built: package list files
/// (comments, several names a line, pins, Architectures), Debconf items and preseed files, binary hooks and
/// include files, and a shared hook directory outside the project; their bad content is a coded error at the
/// file and line, and a list's change is a change of the packages stage's inputs.
/// </summary>
[Collection(TargetsWorkspaceCollection.Name)]
public sealed class LiveBuildHabitsInputTests(TargetsWorkspace workspace, ITestOutputHelper output)
{
    private string Project(string name, string properties, string items, params (string Path, string Content)[] files)
    {
        var dir = Path.Combine(workspace.Root, name);
        if (Directory.Exists(dir)) Directory.Delete(dir, recursive: true);
        Directory.CreateDirectory(dir);
        File.WriteAllText(Path.Combine(dir, name + ".liveproj"), $"""
            <Project Sdk="LiveImage.Sdk">
              <PropertyGroup>
                <Suite>trixie</Suite>
            {properties}
              </PropertyGroup>
              <ItemGroup>
            {items}
              </ItemGroup>
            </Project>
            """);
        foreach (var (path, content) in files) Write(dir, path, content);
        return dir;
    }

    private static void Write(string dir, string path, string content)
    {
        var full = Path.GetFullPath(Path.Combine(dir, path));
        Directory.CreateDirectory(Path.GetDirectoryName(full)!);
        File.WriteAllText(full, content);
        if (content.StartsWith("#!", StringComparison.Ordinal)) File.SetUnixFileMode(full, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
    }

    [Fact]
    public void ListsAnswersBinaryHooksAndSharedHooksResolveAsTheBuildUsesThem()
    {
        var project = Project("habits-good", "    <SharedHookDirectory>../habits-shared</SharedHookDirectory>", """
                <PackageList Include="package-lists/*.list.chroot" />
                <PackageList Include="package-lists/arm.list" Architectures="arm64" />
                <Debconf Include="tzdata/Areas" Type="select" Value="Europe" />
                <Debconf Include="shared/accepted-license" Owner="some-package" Type="boolean" Value="true" />
                <DebconfFile Include="preseed.cfg" />
                <BinaryIncludeFile Include="includes.binary/**" />
                <Hook Include="../habits-elsewhere/0300-one.sh" AllowOutsideProject="true" />
            """,
            ("package-lists/tools.list.chroot", "# tools\n\ntree  less=668-1 # two on a line, one pinned\n   vim:amd64\n"),
            ("package-lists/arm.list", "u-boot-tools\n"),
            ("preseed.cfg", "# preseed\nlocales locales/default_environment_locale select en_US.UTF-8\nkeyboard-configuration keyboard-configuration/xkb-keymap \\\n  select de\n"),
            ("includes.binary/extra/readme.txt", "hello\n"),
            ("hooks/0100-mark.binary", "#!/bin/sh\n"),
            ("../habits-shared/0200-shared.sh", "#!/bin/sh\n"),
            ("../habits-shared/0400-shared.binary", "#!/bin/sh\n"),
            ("../habits-elsewhere/0300-one.sh", "#!/bin/sh\n"));

        var result = workspace.Workspace.Build(project, output, "-t:Summary");
        Assert.True(result.Succeeded);
        Assert.Contains("0 Warning(s)", result.Output);
        Assert.Contains("Package: tree (Recommends=true)", result.Output);
        Assert.Contains("Package: less=668-1 (Recommends=true)", result.Output);
        Assert.Contains("Package: vim:amd64 (Recommends=true)", result.Output);
        Assert.DoesNotContain("u-boot-tools", result.Output); // an arm64 list
        Assert.Contains("Debconf: tzdata tzdata/Areas select Europe", result.Output);
        Assert.Contains("Debconf: some-package shared/accepted-license boolean true", result.Output);
        Assert.Contains("Debconf: locales locales/default_environment_locale select en_US.UTF-8", result.Output);
        Assert.Contains("Debconf: keyboard-configuration keyboard-configuration/xkb-keymap select de", result.Output); // a continued line
        Assert.Contains("BinaryHook: 0100-mark.binary", result.Output);
        Assert.Contains("BinaryHook: 0400-shared.binary", result.Output);
        Assert.Contains("BinaryIncludeFile: includes.binary/extra/readme.txt", result.Output);
        Assert.Contains("Hook: 0200-shared.sh", result.Output);
        Assert.Contains("Hook: 0300-one.sh", result.Output);

        // the packages stage's inputs follow the list's content; the ISO stage's the medium's hooks and files
        var resolve = workspace.Resolve(project, output);
        Assert.True(resolve.Succeeded);
        var packages = Path.Combine(project, "obj/Release/amd64/packages.inputs.cache");
        var before = File.ReadAllText(packages);
        Assert.Contains("Package=tree;Recommends=true", before);
        Assert.Contains("Debconf=tzdata tzdata/Areas select Europe", before);
        var iso = File.ReadAllText(Path.Combine(project, "obj/Release/amd64/iso.inputs.cache"));
        Assert.Contains("BinaryHook=0100-mark.binary", iso);
        Assert.Contains("BinaryIncludeFile=includes.binary/extra/readme.txt", iso);
        Write(project, "package-lists/tools.list.chroot", "tree\nhtop\n");
        Assert.True(workspace.Resolve(project, output).Succeeded);
        var after = File.ReadAllText(packages);
        Assert.Contains("Package=htop;Recommends=true", after);
        Assert.DoesNotContain("less=668-1", after);
    }

    [Fact]
    public void BadListsAnswersAndHooksAreCodedErrorsAtTheirFileAndLine()
    {
        var project = Project("habits-bad", "    <SharedHookDirectory>../habits-no-such-dir</SharedHookDirectory>", """
                <PackageList Include="lists/bad.list.chroot" />
                <PackageList Include="lists/missing.list" />
                <Debconf Include="tzdata/Areas" Type="choice" Value="Europe" />
                <Debconf Include="foo/enabled" Type="boolean" Value="yes" />
                <DebconfFile Include="preseed.cfg" />
                <BinaryIncludeFile Include="includes.binary/missing.txt" />
                <BinaryHook Include="../habits-bad-outside/0100-out.binary" />
            """,
            ("lists/bad.list.chroot", "# fine\ntree\nless Bad_Name\n#include <other.list>\n"),
            ("preseed.cfg", "# preseed\nlocales locales/default_environment_locale select en_US.UTF-8\nlocales incomplete\n"),
            ("../habits-bad-outside/0100-out.binary", "#!/bin/sh\n"));

        var result = workspace.Resolve(project, output);
        Assert.False(result.Succeeded);
        Assert.Contains("bad.list.chroot(3", result.Output);
        Assert.Contains("error LIVE1075: PackageList 'lists/bad.list.chroot' line 3: 'Bad_Name' is not a valid Debian package name", result.Output);
        Assert.Contains("bad.list.chroot(4", result.Output);
        Assert.Contains("error LIVE1077: PackageList 'lists/bad.list.chroot' line 4: live-build's '#include' directive is not supported", result.Output);
        Assert.Contains("error LIVE1076: PackageList 'lists/missing.list' does not exist", result.Output);
        Assert.Contains("error LIVE1078: Debconf 'tzdata/Areas': the type 'choice' is not one of select", result.Output);
        Assert.Contains("error LIVE1078: Debconf 'foo/enabled': a boolean's value must be true or false, not 'yes'", result.Output);
        Assert.Contains("preseed.cfg(3", result.Output);
        Assert.Contains("error LIVE1079: DebconfFile 'preseed.cfg' line 3: it has fewer than the three fields", result.Output);
        Assert.Contains("error LIVE1081: BinaryIncludeFile 'includes.binary/missing.txt' does not exist", result.Output);
        Assert.Contains("error LIVE1016: Hook '../habits-bad-outside/0100-out.binary'", result.Output); // the safe default, for binary hooks too
        Assert.Contains("error LIVE1082: SharedHookDirectory '../habits-no-such-dir' does not exist", result.Output);
        Assert.DoesNotContain("bootstrap [", result.Output);
    }
}
