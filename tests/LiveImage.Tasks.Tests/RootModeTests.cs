namespace LiveImage.Tasks.Tests;

/// <summary>RootMode and the checks a build without root makes before any long work (LIVE2040–LIVE2043).</summary>
public sealed class RootModeTests : IDisposable
{
    private readonly TempDirectory _dir = new();
    private readonly FakeBuildEngine _engine = new();
    private static readonly string User = Environment.UserName;

    public void Dispose() => _dir.Dispose();

    /// <summary>A non-root build on a host that has everything a rootless build needs, unless <paramref name="configure"/> takes it away.</summary>
    private ResolveLiveImageConfiguration Task(Action<ResolveLiveImageConfiguration>? configure = null)
    {
        _dir.File("bin/newuidmap", "#!/bin/sh\n", executable: true);
        _dir.File("bin/newgidmap", "#!/bin/sh\n", executable: true);
        _dir.File("sys/kernel/unprivileged_userns_clone", "1\n");
        _dir.File("sys/user/max_user_namespaces", "15000\n");
        var task = new ResolveLiveImageConfiguration
        {
            BuildEngine = _engine,
            Architecture = "amd64",
            Suite = "trixie",
            ImageVersion = "1.0.0",
            LiveUser = "user",
            LivePassword = "live",
            IsRoot = () => false,
            SubuidFile = _dir.File("subuid", $"someone:100000:65536\n{User}:165536:65536\n"),
            SubgidFile = _dir.File("subgid", $"{User}:165536:65536\n"),
            SysctlDirectory = Path.Combine(_dir.Path, "sys"),
            IdMapToolSearchPath = Path.Combine(_dir.Path, "bin"),
        };
        configure?.Invoke(task);
        return task;
    }

    private List<string> Errors(ResolveLiveImageConfiguration task)
    {
        Assert.False(task.Execute());
        return _engine.Errors.Select(e => $"{e.Code}: {e.Message}").ToList();
    }

    [Fact]
    public void AutoIsRootlessForAUserWithEverythingItNeeds()
    {
        var task = Task();
        Assert.True(task.Execute(), _engine.AllErrors);
        Assert.Equal("rootless", task.ResolvedRootMode);
    }

    [Fact]
    public void AutoIsRootAsRootWithoutAnyCheck()
    {
        var task = Task(t => { t.IsRoot = () => true; t.SubuidFile = "/nonexistent"; t.IdMapToolSearchPath = "/nonexistent"; });
        Assert.True(task.Execute(), _engine.AllErrors);
        Assert.Equal("root", task.ResolvedRootMode);
    }

    [Fact]
    public void RootModeRootWithoutRootIsLIVE2001() =>
        Assert.StartsWith("LIVE2001", Assert.Single(Errors(Task(t => t.RootMode = "root"))));

    [Fact]
    public void RootModeRootlessAsRootIsLIVE2044() =>
        Assert.StartsWith("LIVE2044", Assert.Single(Errors(Task(t => { t.IsRoot = () => true; t.RootMode = "Rootless"; }))));

    [Fact]
    public void UnknownRootModeIsLIVE2040()
    {
        var message = Assert.Single(Errors(Task(t => t.RootMode = "fakeroot")));
        Assert.StartsWith("LIVE2040", message);
        Assert.Contains("'fakeroot'", message);
    }

    [Fact]
    public void NoSubuidRangeIsLIVE2041WithTheLineToAdd()
    {
        var message = Assert.Single(Errors(Task(t => t.SubuidFile = _dir.File("subuid", "someone:100000:65536\n"))));
        Assert.StartsWith("LIVE2041", message);
        Assert.Contains($"add the line '{User}:165536:65536' to {_dir.Path}/subuid", message);
        Assert.Contains($"usermod --add-subuids 165536-231071 {User}", message);
    }

    [Fact]
    public void NoSubgidFileIsLIVE2041ForGroups()
    {
        var message = Assert.Single(Errors(Task(t => t.SubgidFile = Path.Combine(_dir.Path, "none"))));
        Assert.StartsWith("LIVE2041", message);
        Assert.Contains("subordinate group ids", message);
        Assert.Contains($"'{User}:100000:65536'", message);
    }

    [Fact]
    public void ARangeTooSmallForTheImageIsLIVE2041() =>
        Assert.StartsWith("LIVE2041", Assert.Single(Errors(Task(t => t.SubuidFile = _dir.File("subuid", $"{User}:100000:1000\n")))));

    [Fact]
    public void ARangeGivenByUidCounts()
    {
        var task = Task(t => t.SubuidFile = _dir.File("subuid", $"{LiveImage.Tasks.Rootfs.SubordinateIds.CurrentUid}:100000:65536\n"));
        Assert.True(task.Execute(), _engine.AllErrors);
    }

    [Theory]
    [InlineData("kernel/unprivileged_userns_clone", "0", "sysctl -w kernel.unprivileged_userns_clone=1")]
    [InlineData("user/max_user_namespaces", "0", "sysctl -w user.max_user_namespaces=15000")]
    [InlineData("kernel/apparmor_restrict_unprivileged_userns", "1", "sysctl -w kernel.apparmor_restrict_unprivileged_userns=0")]
    public void AForbiddingSysctlIsLIVE2042(string setting, string value, string fix)
    {
        var message = Assert.Single(Errors(Task(t => _dir.File("sys/" + setting, value + "\n"))));
        Assert.StartsWith("LIVE2042", message);
        Assert.Contains(fix, message);
    }

    [Fact]
    public void MissingNewuidmapIsLIVE2043NamingUidmap()
    {
        var errors = Errors(Task(t => t.IdMapToolSearchPath = Path.Combine(_dir.Path, "sys")));
        Assert.Equal(2, errors.Count);
        Assert.All(errors, e => Assert.StartsWith("LIVE2043", e));
        Assert.Contains("'newuidmap'", errors[0]);
        Assert.Contains("'newgidmap'", errors[1]);
        Assert.Contains("apt-get install uidmap", errors[0]);
    }

    /// <summary>arm64 on an amd64 host: its programs run through qemu-user's binfmt_misc handler.</summary>
    private ResolveLiveImageConfiguration Foreign(Func<string, Emulation.BinfmtProblem?> binfmt) => Task(t =>
    {
        t.Architecture = "arm64";
        t.HostArchitecture = "amd64";
        t.CanRunNatively = _ => false;
        t.CheckBinfmt = binfmt;
    });

    [Fact]
    public void AForeignArchitectureWithoutAReadyHandlerIsLIVE2045NamingBothWays()
    {
        string? asked = null;
        var errors = Errors(Foreign(h =>
        {
            asked = h;
            return Emulation.Binfmt.Diagnose(h, mounted: true, "enabled", "enabled\ninterpreter /usr/libexec/qemu-binfmt/aarch64-binfmt-P\nflags: P\n");
        }));
        Assert.Equal("qemu-aarch64", asked);
        var message = Assert.Single(errors, e => e.StartsWith("LIVE2045", StringComparison.Ordinal));
        Assert.Contains("lacks the F flag", message);
        Assert.Contains("build as root", message);
        Assert.Contains("update-binfmts --disable qemu-aarch64 && update-binfmts --enable qemu-aarch64", message);
    }

    [Fact]
    public void AForeignArchitectureWithAnFHandlerTheAdminRegisteredIsNoRootlessError()
    {
        var task = Foreign(_ => null);
        task.Execute();
        Assert.DoesNotContain(_engine.Errors, e => e.Code == "LIVE2045");
        Assert.Equal("arm64", task.EmulatedArchitecture);
    }

    [Fact]
    public void AsRootAForeignArchitectureIsNotCheckedForRootless()
    {
        var task = Foreign(_ => throw new InvalidOperationException("a root build holds the handler itself"));
        task.IsRoot = () => true;
        task.Execute();
        Assert.DoesNotContain(_engine.Errors, e => e.Code == "LIVE2045");
    }
}
