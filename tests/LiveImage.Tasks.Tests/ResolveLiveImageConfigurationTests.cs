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
        var message = SingleError(Task(t => t.IsRoot = () => false));
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
    public void EveryInputErrorIsReportedBeforeTheRootCheck()
    {
        var task = Task(t => { t.Architecture = "nope"; t.Suite = "nope"; t.IsRoot = () => false; });
        Assert.False(task.Execute());
        Assert.Equal(["LIVE1001", "LIVE1002"], _engine.ErrorCodes);
    }
}
