using static LiveImage.Tasks.Tests.Items;

namespace LiveImage.Tasks.Tests;

/// <summary>
/// Errors and warnings about project inputs point at the .liveproj line that sets them (an IDE
/// opens the project, not the SDK's targets), errors about a hook's content at the hook, and a
/// wildcard that matches no file is a LIVE1033 warning at its line.
/// </summary>
public sealed class ProjectLocationTests : IDisposable
{
    private readonly TempDirectory _dir = new();
    private readonly FakeBuildEngine _engine = new();

    public void Dispose() => _dir.Dispose();

    private string Project(string body) => _dir.File("p/p.liveproj", $"""
        <Project Sdk="LiveImage.Sdk">
        {body}
        </Project>
        """);

    private ResolveLiveImageConfiguration Task(string project, Action<ResolveLiveImageConfiguration>? configure = null)
    {
        var task = new ResolveLiveImageConfiguration
        {
            BuildEngine = _engine, Architecture = "amd64", Suite = "trixie", ImageVersion = "1.0.0", LiveUser = "user", LivePassword = "live",
            IsRoot = () => true, ProjectFile = project, ProjectDirectory = Path.GetDirectoryName(project)!,
        };
        configure?.Invoke(task);
        return task;
    }

    [Fact]
    public void PropertyAndItemErrorsAreAtTheProjectLineThatSetsThem()
    {
        var project = Project("""
              <PropertyGroup>
                <Suite>trixy</Suite>
                <ImageVersion>one</ImageVersion>
              </PropertyGroup>
              <ItemGroup>
                <Package Include="less" />
                <Package Include="Bad_Name" />
                <IncludeFile Include="files/gone.conf" />
              </ItemGroup>
            """);
        var task = Task(project, t =>
        {
            t.Suite = "trixy";
            t.ImageVersion = "one";
            t.Packages = [Item("less"), Item("Bad_Name")];
            t.IncludeFiles = [Item("files/gone.conf")];
        });
        Assert.False(task.Execute());
        var byCode = _engine.Errors.ToDictionary(e => e.Code);
        Assert.Equal(["LIVE1002", "LIVE1006", "LIVE1007", "LIVE1013"], byCode.Keys.Order());
        Assert.All(_engine.Errors, e => Assert.Equal(project, e.File));
        Assert.Equal(3, byCode["LIVE1002"].LineNumber);
        Assert.Equal(4, byCode["LIVE1006"].LineNumber);
        Assert.Equal(8, byCode["LIVE1007"].LineNumber);
        Assert.Equal(9, byCode["LIVE1013"].LineNumber);
        Assert.Equal(6, byCode["LIVE1007"].ColumnNumber); // the element name, as LIVE1019 reports it
        Assert.DoesNotContain("LIVE1007", byCode["LIVE1007"].Message); // the code is not repeated in the text
    }

    [Fact]
    public void AnInputTheProjectDoesNotSetStaysAtTheTask()
    {
        var project = Project("<PropertyGroup><HostName>x</HostName></PropertyGroup>");
        Assert.False(Task(project, t => t.Suite = "trixy").Execute());
        var error = Assert.Single(_engine.Errors);
        Assert.Equal("LIVE1002", error.Code);
        Assert.Equal("test.liveproj", error.File); // the task node's file: MSBuild places it at the task
    }

    [Fact]
    public void HookContentErrorsAreAtTheHookAndItemErrorsAtItsWildcard()
    {
        var project = Project("""
              <ItemGroup>
                <Hook Include="hooks/*.sh" RunIn="jail" />
              </ItemGroup>
            """);
        var noShebang = _dir.File("p/hooks/0100-plain.sh", "echo hi\n", executable: true);
        var crlf = _dir.File("p/hooks/0200-crlf.sh", "#!/bin/sh\necho a\r\n", executable: true);
        var jailed = _dir.File("p/hooks/0300-jail.sh", "#!/bin/sh\n", executable: true);
        var task = Task(project, t => t.Hooks =
        [
            Item(noShebang, ("RunIn", "jail")), Item(crlf, ("RunIn", "jail")), Item(jailed, ("RunIn", "jail")),
        ]);
        Assert.False(task.Execute());
        var byCode = _engine.Errors.ToDictionary(e => e.Code);
        Assert.Equal((noShebang, 1), (byCode["LIVE1014"].File, byCode["LIVE1014"].LineNumber));
        Assert.Equal((crlf, 2), (byCode["LIVE1015"].File, byCode["LIVE1015"].LineNumber));
        Assert.Equal((project, 3), (byCode["LIVE1012"].File, byCode["LIVE1012"].LineNumber));
    }

    [Fact]
    public void WildcardsMatchingNoFileAreLIVE1033WarningsAtTheirLine()
    {
        var project = Project("""
              <ItemGroup>
                <IncludeFile Include="rootfs/**" />
                <IncludeFile Include="files/*.conf;files/*.txt" />
                <Hook Include="scripts/*.sh" />
                <Hook Include="hooks/*.sh" />
                <IncludeFile Include="$(Elsewhere)/*.conf" />
              </ItemGroup>
            """);
        _dir.File("p/files/a.conf", "a");
        _dir.File("p/hooks/0100-a.sh", "#!/bin/sh\n", executable: true);
        Assert.True(Task(project).Execute(), _engine.AllErrors);
        var warnings = _engine.Warnings.OrderBy(w => w.LineNumber).ToList();
        Assert.All(warnings, w => Assert.Equal(("LIVE1033", project), (w.Code, w.File)));
        Assert.Equal([3, 4, 5], warnings.Select(w => w.LineNumber));
        Assert.Contains("IncludeFile pattern 'rootfs/**' matches no file", warnings[0].Message);
        Assert.Contains("'files/*.txt'", warnings[1].Message);
        Assert.Contains("Hook pattern 'scripts/*.sh'", warnings[2].Message);
    }

    [Fact]
    public void AnInnerBuildOfAnOuterOneLeavesTheProjectChecksToIt()
    {
        var project = Project("""<ItemGroup><IncludeFile Include="rootfs/**" /></ItemGroup>""");
        Assert.True(Task(project, t => t.CheckProjectFile = false).Execute(), _engine.AllErrors);
        Assert.Empty(_engine.Warnings);
    }

    [Fact]
    public void ArchitecturesErrorsAreAtTheirProjectLine()
    {
        var project = Project("""
              <PropertyGroup>
                <Architectures>amd64,arm64</Architectures>
              </PropertyGroup>
            """);
        var task = new CheckArchitectures { BuildEngine = _engine, Architectures = "amd64,arm64", Suite = "trixie", ProjectFile = project };
        Assert.False(task.Execute());
        var error = Assert.Single(_engine.Errors);
        Assert.Equal(("LIVE1017", project, 3), (error.Code, error.File, error.LineNumber));
    }

    [Theory]
    [InlineData("hooks/*.sh", "hooks/0100-a.sh", true)]
    [InlineData("hooks/*.sh", "hooks/lib/common.sh", false)]
    [InlineData("rootfs/**", "rootfs/etc/motd", true)]
    [InlineData("rootfs/**/*.conf", "rootfs/a.conf", true)]
    [InlineData("rootfs/**/*.conf", "rootfs/etc/x/a.conf", true)]
    [InlineData("data/?.txt", "data/ab.txt", false)]
    public void GlobMatchesLikeMSBuild(string pattern, string path, bool expected) =>
        Assert.Equal(expected, Configuration.Glob.Matches(pattern, path));

    [Fact]
    public void GlobExpandsOnlyWhatMatches()
    {
        _dir.File("p/rootfs/etc/a.conf", "");
        _dir.File("p/rootfs/etc/deep/b.conf", "");
        _dir.File("p/rootfs/etc/c.txt", "");
        var root = Path.Combine(_dir.Path, "p");
        Assert.Equal([Path.Combine(root, "rootfs/etc/a.conf"), Path.Combine(root, "rootfs/etc/deep/b.conf")], Configuration.Glob.Expand(root, "rootfs/**/*.conf"));
        Assert.Equal(3, Configuration.Glob.Expand(root, "rootfs/**").Count);
        Assert.Single(Configuration.Glob.Expand(root, "rootfs/etc/*.txt"));
        Assert.Empty(Configuration.Glob.Expand(root, "nothing/*"));
        Directory.CreateSymbolicLink(Path.Combine(root, "rootfs/etc/loop"), "/");
        Assert.Equal(3, Configuration.Glob.Expand(root, "rootfs/**").Count); // a link to '/' is not walked
    }
}

/// <summary>A hook's Inputs metadata: globs relative to the project, resolved to files, LIVE1033 when one matches nothing.</summary>
public sealed class HookInputsTests : IDisposable
{
    private readonly TempDirectory _dir = new();
    private readonly FakeBuildEngine _engine = new();

    public void Dispose() => _dir.Dispose();

    [Fact]
    public void InputsResolveToTheFilesTheyNameAndAnEmptyPatternWarns()
    {
        var project = _dir.File("p.liveproj", "<Project>\n  <ItemGroup>\n    <Hook Include=\"hooks/0100-a.sh\" Inputs=\"hooks/lib/*.sh;data/motd.txt;data/none/*\" />\n  </ItemGroup>\n</Project>\n");
        var hook = _dir.File("hooks/0100-a.sh", "#!/bin/sh\n", executable: true);
        var lib = _dir.File("hooks/lib/common.sh", "x=1\n");
        var data = _dir.File("data/motd.txt", "hi\n");
        var task = new ResolveLiveImageConfiguration
        {
            BuildEngine = _engine, Architecture = "amd64", Suite = "trixie", ImageVersion = "1.0.0", IsRoot = () => true,
            ProjectFile = project, ProjectDirectory = _dir.Path,
            Hooks = [Item(hook, ("Inputs", "hooks/lib/*.sh;data/motd.txt;data/none/*"))],
        };
        Assert.True(task.Execute(), _engine.AllErrors);
        var resolved = Assert.Single(task.ResolvedHooks);
        Assert.Equal($"{data};{lib}", resolved.GetMetadata("InputFiles"));
        Assert.Equal("data/motd.txt hooks/lib/common.sh", resolved.GetMetadata("InputNames"));
        Assert.Equal([data, lib], task.ResolvedHookInputs.Select(i => i.ItemSpec));
        var warning = Assert.Single(_engine.Warnings);
        Assert.Equal(("LIVE1033", project, 3), (warning.Code, warning.File, warning.LineNumber));
        Assert.Contains("'data/none/*'", warning.Message);
    }
}
