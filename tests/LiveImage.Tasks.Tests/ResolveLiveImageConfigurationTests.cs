using Microsoft.Build.Framework;
using static LiveImage.Tasks.Tests.Items;

namespace LiveImage.Tasks.Tests;

public sealed class ResolveLiveImageConfigurationTests : IDisposable
{
    private readonly TempDirectory _dir = new();
    private readonly FakeBuildEngine _engine = new();

    public void Dispose() => _dir.Dispose();

    private ResolveLiveImageConfiguration Task(Action<ResolveLiveImageConfiguration>? configure = null)
    {
        var task = new ResolveLiveImageConfiguration
        {
            BuildEngine = _engine,
            Architecture = "amd64",
            Suite = "trixie",
            ImageVersion = "1.0.0",
            LiveUser = "user",
            LivePassword = "live",
            IsRoot = () => true,
        };
        configure?.Invoke(task);
        return task;
    }

    private string SingleError(ResolveLiveImageConfiguration task)
    {
        Assert.False(task.Execute());
        var error = Assert.Single(_engine.Errors);
        return $"{error.Code}: {error.Message}";
    }

    [Fact]
    public void ValidInputPasses()
    {
        var task = Task();
        Assert.True(task.Execute(), _engine.AllErrors);
        Assert.Equal("linux-image-amd64", task.KernelPackage);
        Assert.Contains(_engine.Messages, m => m.Message!.Contains("LiveImage.Sdk tasks") && m.Message.Contains("(build "));
    }

    [Theory]
    [InlineData("amd46")]
    [InlineData("amd64;arm64")]
    [InlineData("x86_64")]
    public void UnknownArchitectureIsLIVE1001(string arch)
    {
        var message = SingleError(Task(t => t.Architecture = arch));
        Assert.StartsWith("LIVE1001", message);
        Assert.Contains($"'{arch}'", message);
        Assert.Contains("amd64, i386, arm64, armhf", message);
    }

    [Fact]
    public void UnknownDistributionIsLIVE1040()
    {
        var message = SingleError(Task(t => t.Distribution = "slackware"));
        Assert.StartsWith("LIVE1040", message);
        Assert.Contains("debian", message);
    }

    [Fact]
    public void EmptySuiteIsLIVE1003() => Assert.StartsWith("LIVE1003", SingleError(Task(t => t.Suite = " ")));

    [Fact]
    public void MisspeltSuiteIsLIVE1002()
    {
        var message = SingleError(Task(t => t.Suite = "trixy"));
        Assert.StartsWith("LIVE1002", message);
        Assert.Contains("'trixy'", message);
        Assert.Contains("trixie", message);
    }

    [Fact]
    public void MissingHookIsLIVE1004()
    {
        var message = SingleError(Task(t => t.Hooks = [Item(Path.Combine(_dir.Path, "hooks/0100-gone.sh"))]));
        Assert.StartsWith("LIVE1004", message);
        Assert.Contains("0100-gone.sh", message);
    }

    [Fact]
    public void NonExecutableHookIsLIVE1005()
    {
        var hook = _dir.File("hooks/0100-plain.sh", "#!/bin/sh\n");
        var message = SingleError(Task(t => t.Hooks = [Item(hook)]));
        Assert.StartsWith("LIVE1005", message);
        Assert.Contains("chmod +x", message);
    }

    [Fact]
    public void HooksAreOrderedByFileNameAndFilteredByArchitecture()
    {
        var b = _dir.File("b/0200-second.sh", "#!/bin/sh\n", executable: true);
        var a = _dir.File("a/0100-first.sh", "#!/bin/sh\n", executable: true);
        var arm = _dir.File("a/0150-arm-only.sh", "#!/bin/sh\n", executable: true);
        var task = Task(t => t.Hooks = [Item(b), Item(arm, ("Architectures", "arm64")), Item(a, ("RunIn", "chroot"))]);
        Assert.True(task.Execute(), _engine.AllErrors);
        Assert.Equal(["0100-first.sh", "0200-second.sh"], task.ResolvedHooks.Select(h => h.GetMetadata("HookName")));
        Assert.Equal(["40-hook-01-0100-first", "40-hook-02-0200-second"], task.ResolvedHooks.Select(h => h.GetMetadata("LayerName")));
        Assert.Equal("chroot", task.ResolvedHooks[0].GetMetadata("RunIn"));
        Assert.Equal("host", task.ResolvedHooks[1].GetMetadata("RunIn"));
    }

    [Fact]
    public void UnknownRunInIsLIVE1012()
    {
        var hook = _dir.File("0100-x.sh", "#!/bin/sh\n", executable: true);
        Assert.StartsWith("LIVE1012", SingleError(Task(t => t.Hooks = [Item(hook, ("RunIn", "vm"))])));
    }

    [Theory]
    [InlineData("Firefox")]
    [InlineData("foo bar")]
    [InlineData("x")]
    [InlineData("pkg;rm")]
    public void InvalidPackageNameIsLIVE1007(string name)
    {
        var message = SingleError(Task(t => t.Packages = [Item(name)]));
        Assert.StartsWith("LIVE1007", message);
        Assert.Contains($"'{name}'", message);
    }

    [Fact]
    public void PackagesAreFilteredByArchitectureAndKeepRecommends()
    {
        var task = Task(t => t.Packages = [Item("task-gnome-desktop"), Item("grub-efi-arm64", ("Architectures", "arm64")), Item("less", ("Recommends", "false"))]);
        Assert.True(task.Execute(), _engine.AllErrors);
        Assert.Equal(["task-gnome-desktop", "less"], task.ResolvedPackages.Select(p => p.ItemSpec));
        Assert.Equal(["true", "false"], task.ResolvedPackages.Select(p => p.GetMetadata("Recommends")));
    }

    [Fact]
    public void UserSlashPasswordFormIsAccepted()
    {
        var task = Task(t => { t.LiveUser = "demo/secret"; t.LivePassword = ""; });
        Assert.True(task.Execute(), _engine.AllErrors);
        Assert.Equal("demo", task.ResolvedLiveUser);
        Assert.Equal("secret", task.ResolvedLivePassword);
    }

    [Theory]
    [InlineData("a:b")]
    [InlineData("a\nb")]
    public void PasswordWithColonOrNewlineIsLIVE1009(string password) =>
        Assert.StartsWith("LIVE1009", SingleError(Task(t => t.LivePassword = password)));

    [Fact]
    public void InvalidImageVersionIsLIVE1006() => Assert.StartsWith("LIVE1006", SingleError(Task(t => t.ImageVersion = "1.0.0.0.0-")));

    [Fact]
    public void LongVolumeIdIsLIVE1010() => Assert.StartsWith("LIVE1010", SingleError(Task(t => t.VolumeId = new string('A', 33))));

    [Fact]
    public void MirrorThatIsNotAUrlIsLIVE1011()
    {
        var message = SingleError(Task(t => t.BuildMirror = "mirror.example/debian"));
        Assert.StartsWith("LIVE1011", message);
        Assert.Contains("BuildMirror", message);
    }

    [Fact]
    public void NotRootIsLIVE2001()
    {
        var message = SingleError(Task(t => { t.IsRoot = () => false; t.RootMode = "root"; }));
        Assert.StartsWith("LIVE2001", message);
        Assert.Contains("root", message);
    }

    [Fact]
    public void MissingHostToolNamesTheDebianPackage()
    {
        var message = SingleError(Task(t => { t.RequiredHostTools = ["mksquashfs"]; t.ToolSearchPath = _dir.Path; }));
        Assert.StartsWith("LIVE2002", message);
        Assert.Contains("apt-get install squashfs-tools", message);
    }

    [Fact]
    public void MissingHostFileNamesTheDebianPackage()
    {
        var message = SingleError(Task(t => t.RequiredHostTools = ["/nonexistent/usr/lib/ISOLINUX/isolinux.bin"]));
        Assert.StartsWith("LIVE2003", message);
    }

    [Fact]
    public void HookWithoutShebangIsLIVE1014()
    {
        var hook = _dir.File("hooks/0100-noshebang.sh", "echo hello\n", executable: true);
        var message = SingleError(Task(t => t.Hooks = [Item(hook)]));
        Assert.StartsWith("LIVE1014", message);
        Assert.Contains("0100-noshebang.sh", message);
        Assert.Contains("#!/bin/sh", message);
    }

    [Fact]
    public void HookWithCrlfLineEndingsIsLIVE1015NamingTheLine()
    {
        var hook = _dir.File("hooks/0100-dos.sh", "#!/bin/sh\necho one\r\necho two\r\n", executable: true);
        var message = SingleError(Task(t => t.Hooks = [Item(hook)]));
        Assert.StartsWith("LIVE1015", message);
        Assert.Contains("line 2", message);
        Assert.Contains("dos2unix", message);
    }

    [Fact]
    public void ElfHookNeedsNoShebang()
    {
        var hook = Path.Combine(_dir.Path, "hooks/0100-true");
        Directory.CreateDirectory(Path.GetDirectoryName(hook)!);
        File.Copy("/bin/true", hook);
        var task = Task(t => { t.Hooks = [Item(hook)]; t.ProjectDirectory = _dir.Path; });
        Assert.True(task.Execute(), _engine.AllErrors);
    }

    [Fact]
    public void HookOutsideTheProjectIsLIVE1016()
    {
        var project = Path.Combine(_dir.Path, "project");
        Directory.CreateDirectory(project);
        var inside = _dir.File("project/hooks/0100-in.sh", "#!/bin/sh\n", executable: true);
        var outside = _dir.File("elsewhere/0200-out.sh", "#!/bin/sh\n", executable: true);
        // a sibling directory whose name starts like the project's is outside too
        var sibling = _dir.File("project-other/0300-sibling.sh", "#!/bin/sh\n", executable: true);
        var task = Task(t => { t.Hooks = [Item(inside), Item(outside), Item(sibling)]; t.ProjectDirectory = project; });
        Assert.False(task.Execute());
        Assert.Equal(["LIVE1016", "LIVE1016"], _engine.ErrorCodes);
        Assert.Contains(_engine.Errors, e => e.Message!.Contains("0200-out.sh") && e.Message.Contains(project));
        Assert.Contains(_engine.Errors, e => e.Message!.Contains("0300-sibling.sh"));
    }

    [Theory]
    [InlineData("trixie")]
    [InlineData("forky")]
    [InlineData("sid")]
    [InlineData("testing")]
    public void I386OnASuiteWithoutAnI386KernelIsLIVE1018(string suite)
    {
        var message = SingleError(Task(t => { t.Architecture = "i386"; t.Suite = suite; }));
        Assert.StartsWith("LIVE1018", message);
        Assert.Contains($"'{suite}'", message);
        Assert.Contains("bookworm", message);
    }

    [Fact]
    public void I386OnBookwormPasses()
    {
        var task = Task(t => { t.Architecture = "i386"; t.Suite = "bookworm"; });
        Assert.True(task.Execute(), _engine.AllErrors);
        Assert.Equal("linux-image-686-pae", task.KernelPackage);
    }

    /// <summary>A stand-in SDK file declaring a few properties, and a project setting the given ones.</summary>
    private (string Project, ITaskItem[] SdkFiles) ProjectWithProperties(string properties)
    {
        var sdk = _dir.File("sdk/Sdk.props", """
            <Project>
              <PropertyGroup>
                <Suite Condition="'$(Suite)' == ''">trixie</Suite>
                <LivePassword>live</LivePassword>
                <ImageVersion>1.0.0</ImageVersion>
                <_LivePrivate>x</_LivePrivate>
              </PropertyGroup>
              <Target Name="T"><Message Text="$(SquashfsCompression) $(HOME) $(Architectures)" /></Target>
            </Project>
            """);
        var project = _dir.File("p/p.liveproj", $"""
            <Project Sdk="LiveImage.Sdk">
              <PropertyGroup>
            {properties}
              </PropertyGroup>
            </Project>
            """);
        return (project, [Item(sdk)]);
    }

    [Fact]
    public void MisspeltPropertiesAreLIVE1019WarningsWithASuggestionAtTheirLine()
    {
        var (project, sdk) = ProjectWithProperties("""
                <Suit>trixie</Suit>
                <LivePasword>secret</LivePasword>
                <ImageVerison>2.0.0</ImageVerison>
                <SquashfsCompresion>xz</SquashfsCompresion>
                <Architecures>amd64;arm64</Architecures>
            """);
        var task = Task(t => { t.ProjectFile = project; t.SdkFiles = sdk; });
        Assert.True(task.Execute(), _engine.AllErrors);
        Assert.All(_engine.Warnings, w => Assert.Equal("LIVE1019", w.Code));
        Assert.All(_engine.Warnings, w => Assert.Equal(project, w.File));
        var byLine = _engine.Warnings.OrderBy(w => w.LineNumber).ToList();
        Assert.Equal([3, 4, 5, 6, 7], byLine.Select(w => w.LineNumber));
        Assert.Contains("'Suit'", byLine[0].Message);
        Assert.Contains("did you mean 'Suite'", byLine[0].Message);
        Assert.Contains("did you mean 'LivePassword'", byLine[1].Message);
        Assert.Contains("did you mean 'ImageVersion'", byLine[2].Message);
        Assert.Contains("did you mean 'SquashfsCompression'", byLine[3].Message);
        Assert.Contains("did you mean 'Architectures'", byLine[4].Message);
    }

    [Fact]
    public void KnownOwnAndFarAwayPropertiesAreNotWarnedAbout()
    {
        var (project, sdk) = ProjectWithProperties("""
                <suite>trixie</suite>
                <LivePassword>secret</LivePassword>
                <MyImageVersion>2</MyImageVersion>
                <CompanyName>Example</CompanyName>
                <Configurations>Debug;Release</Configurations>
                <_Mine>x</_Mine>
                <Home>x</Home>
            """);
        var task = Task(t => { t.ProjectFile = project; t.SdkFiles = sdk; });
        Assert.True(task.Execute(), _engine.AllErrors);
        Assert.Empty(_engine.Warnings);
    }

    [Fact]
    public void TheRealSdkFilesKnowTheDocumentedProperties()
    {
        var sdkDirectory = Path.Combine(RepoRoot(), "src/LiveImage.Sdk/Sdk");
        var known = Configuration.ProjectInputChecks.SdkPropertyNames(Directory.GetFiles(sdkDirectory));
        foreach (var name in new[] { "Suite", "Architecture", "Architectures", "LivePassword", "LockRootPassword", "SquashfsCompression", "BootTestTimeout", "VerifyImageOnBuild", "BuildLockTimeout", "SplashImage" })
            Assert.Contains(name, known);
        Assert.DoesNotContain(known, n => n.StartsWith('_'));
    }

    private static string RepoRoot()
    {
        var dir = AppContext.BaseDirectory;
        while (!File.Exists(Path.Combine(dir, "LiveImage.Sdk.sln"))) dir = Path.GetDirectoryName(dir)!;
        return dir;
    }

    [Theory]
    [InlineData("suit", "suite", 1)]
    [InlineData("livepasword", "livepassword", 1)]
    [InlineData("imageverison", "imageversion", 1)]
    [InlineData("abc", "abc", 0)]
    [InlineData("", "abc", 3)]
    public void EditDistanceCountsTranspositionsAsOne(string a, string b, int expected) =>
        Assert.Equal(expected, Configuration.ProjectInputChecks.EditDistance(a, b));

    private static byte[] Png(int width, int height)
    {
        var bytes = new byte[33];
        new byte[] { 0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A, 0, 0, 0, 13, (byte)'I', (byte)'H', (byte)'D', (byte)'R' }.CopyTo(bytes, 0);
        System.Buffers.Binary.BinaryPrimitives.WriteInt32BigEndian(bytes.AsSpan(16), width);
        System.Buffers.Binary.BinaryPrimitives.WriteInt32BigEndian(bytes.AsSpan(20), height);
        bytes[24] = 8; bytes[25] = 2;
        return bytes;
    }

    [Fact]
    public void SplashImageOf640x480Passes()
    {
        File.WriteAllBytes(Path.Combine(_dir.Path, "splash.png"), Png(640, 480));
        var task = Task(t => { t.SplashImage = "splash.png"; t.ProjectDirectory = _dir.Path; });
        Assert.True(task.Execute(), _engine.AllErrors);
        Assert.Empty(_engine.Warnings);
    }

    [Fact]
    public void SplashImageOfAnotherSizeIsALIVE1021Warning()
    {
        File.WriteAllBytes(Path.Combine(_dir.Path, "splash.png"), Png(1920, 1080));
        var task = Task(t => { t.SplashImage = "splash.png"; t.ProjectDirectory = _dir.Path; });
        Assert.True(task.Execute(), _engine.AllErrors);
        var warning = Assert.Single(_engine.Warnings);
        Assert.Equal("LIVE1021", warning.Code);
        Assert.Contains("1920x1080", warning.Message);
        Assert.Contains("640x480", warning.Message);
    }

    [Theory]
    [InlineData("splash.jpg", true)]
    [InlineData("missing.png", false)]
    public void SplashImageThatIsNotAPngIsLIVE1020(string name, bool exists)
    {
        if (exists) File.WriteAllBytes(Path.Combine(_dir.Path, name), [0xFF, 0xD8, 0xFF, 0xE0, 0, 0x10, (byte)'J', (byte)'F', (byte)'I', (byte)'F']);
        var message = SingleError(Task(t => { t.SplashImage = name; t.ProjectDirectory = _dir.Path; }));
        Assert.StartsWith("LIVE1020", message);
        Assert.Contains(exists ? "is not a PNG" : "does not exist", message);
    }

    [Fact]
    public void EveryInputErrorIsReportedBeforeTheRootCheck()
    {
        var task = Task(t => { t.Architecture = "nope"; t.Suite = "nope"; t.IsRoot = () => false; });
        Assert.False(task.Execute());
        Assert.Equal(["LIVE1001", "LIVE1002"], _engine.ErrorCodes);
    }
}
