using LiveImage.Tasks.Distributions.Debian;
using Microsoft.Build.Framework;
using static LiveImage.Tasks.Tests.Items;

namespace LiveImage.Tasks.Tests;

/// <summary>
/// The namespace wrapper and the hook runner against a tiny fake root: real unshare, real
/// overlayfs, no image. They need root.
/// </summary>
public sealed class NamespaceTests : IDisposable
{
    private readonly TempDirectory _dir = new();
    private readonly FakeBuildEngine _engine = new();

    public NamespaceTests()
    {
        foreach (var d in new[] { "proc", "sys", "dev", "run", "etc", "tmp" }) Directory.CreateDirectory(Path.Combine(BaseLayer, d));
    }

    private string BaseLayer => Path.Combine(_dir.Path, "layers", "00-base");

    public void Dispose() => _dir.Dispose();

    private RunHooks Hooks(params string[] hookScripts)
    {
        var hooks = hookScripts.Select((script, i) =>
        {
            var path = _dir.File($"hooks/0{i + 1}00-hook.sh", script, executable: true);
            return Item(path, ("HookName", Path.GetFileName(path)), ("LayerName", $"40-hook-{i + 1:D2}"), ("RunIn", "host"));
        }).ToArray();
        return new RunHooks
        {
            BuildEngine = _engine,
            Architecture = "amd64",
            Hooks = hooks,
            LowerLayers = [Item(BaseLayer)],
            BaseStamp = _dir.File("includes.stamp", "base-1"),
            LayersDirectory = Path.Combine(_dir.Path, "layers"),
            ScratchDirectory = Path.Combine(_dir.Path, "scratch"),
            LogDirectory = Path.Combine(_dir.Path, "logs"),
        };
    }

    private IEnumerable<string> MountsBelowTemp() =>
        File.ReadAllLines("/proc/mounts").Where(l => l.Contains(_dir.Path, StringComparison.Ordinal));

    [RootFact]
    public void HookWritesOnlyIntoItsOwnLayerAndGetsTheRootAsFirstArgument()
    {
        var task = Hooks("#!/bin/sh\nset -e\necho hello > \"$1/etc/greeting\"\n[ -r \"$1/proc/self/stat\" ]\n");
        Assert.True(task.Execute(), _engine.AllErrors);
        Assert.Equal("hello\n", File.ReadAllText(Path.Combine(_dir.Path, "layers/40-hook-01/etc/greeting")));
        Assert.False(File.Exists(Path.Combine(BaseLayer, "etc/greeting")));
        Assert.Empty(MountsBelowTemp());
    }

    [RootFact]
    public void FailingHookIsLIVE3001WithNameExitCodeTailAndLog()
    {
        var task = Hooks("#!/bin/sh\nfor i in $(seq 1 30); do echo line-$i; done\nexit 7\n");
        Assert.False(task.Execute());
        var error = Assert.Single(_engine.Errors);
        Assert.Equal("LIVE3001", error.Code);
        Assert.Equal(Path.Combine(_dir.Path, "hooks/0100-hook.sh"), error.File); // an IDE opens the hook, not the SDK
        Assert.Contains("0100-hook.sh", error.Message);
        Assert.Contains("exit code 7", error.Message);
        Assert.Contains("line-30", error.Message);
        Assert.DoesNotContain("line-10\n", error.Message); // only the tail
        Assert.Contains(Path.Combine(_dir.Path, "logs", "hook-0100-hook.sh.log"), error.Message);
        Assert.Empty(MountsBelowTemp());
    }

    [RootFact]
    public void UnchangedHookLayerIsReusedAndAnEditRerunsItAndTheOnesAbove()
    {
        var task = Hooks("#!/bin/sh\ndate +%s%N > \"$1/etc/one\"\n", "#!/bin/sh\ndate +%s%N > \"$1/etc/two\"\n");
        Assert.True(task.Execute(), _engine.AllErrors);
        string Read(string layer, string file) => File.ReadAllText(Path.Combine(_dir.Path, "layers", layer, "etc", file));
        var (one, two) = (Read("40-hook-01", "one"), Read("40-hook-02", "two"));

        Assert.True(Hooks("#!/bin/sh\ndate +%s%N > \"$1/etc/one\"\n", "#!/bin/sh\ndate +%s%N > \"$1/etc/two\"\n").Execute());
        Assert.Equal(one, Read("40-hook-01", "one"));
        Assert.Equal(two, Read("40-hook-02", "two"));

        Assert.True(Hooks("#!/bin/sh\ndate +%s%N > \"$1/etc/one\"\n", "#!/bin/sh\n# edited\ndate +%s%N > \"$1/etc/two\"\n").Execute());
        Assert.Equal(one, Read("40-hook-01", "one"));
        Assert.NotEqual(two, Read("40-hook-02", "two"));
    }

    [RootFact]
    public void HooksGetTheImagesMetadataInTheirEnvironment()
    {
        var task = Hooks("#!/bin/sh\nenv | grep '^LIVEIMAGE_' | sort > \"$1/etc/env\"\n");
        (task.ImageName, task.ImageVersion, task.Suite, task.HostName, task.LiveUser, task.Configuration, task.ProjectDirectory) =
            ("rescue", "2.1.0", "trixie", "box", "ops", "Release", _dir.Path);
        Assert.True(task.Execute(), _engine.AllErrors);
        var env = File.ReadAllLines(Path.Combine(_dir.Path, "layers/40-hook-01/etc/env"));
        foreach (var line in new[]
                 {
                     "LIVEIMAGE_NAME=rescue", "LIVEIMAGE_VERSION=2.1.0", "LIVEIMAGE_SUITE=trixie", "LIVEIMAGE_ARCHITECTURE=amd64",
                     "LIVEIMAGE_HOSTNAME=box", "LIVEIMAGE_USER=ops", "LIVEIMAGE_CONFIGURATION=Release", $"LIVEIMAGE_PROJECT_DIR={_dir.Path}",
                     "LIVEIMAGE_HOOK=0100-hook.sh",
                 })
            Assert.Contains(line, env);
    }

    /// <summary>A library a hook sources (its Inputs), the SDK's helper library and the image's version rerun it when they change.</summary>
    [RootFact]
    public void AHookRerunsWhenItsInputsTheHelpersOrTheImageVersionChange()
    {
        var lib = _dir.File("hooks/lib/common.sh", "GREETING=one\n");
        var helpers = _dir.File("sdk/liveimage-helpers.sh", "# helpers 1\n");
        RunHooks Run(Action<RunHooks>? change = null)
        {
            var task = Hooks("#!/bin/sh\ndate +%s%N > \"$1/etc/stamp\"\n");
            task.Hooks[0].SetMetadata("InputFiles", lib);
            (task.HelpersScript, task.ImageVersion, task.ProjectDirectory) = (helpers, "1.0.0", _dir.Path);
            change?.Invoke(task);
            Assert.True(task.Execute(), _engine.AllErrors);
            return task;
        }
        string Stamp() => File.ReadAllText(Path.Combine(_dir.Path, "layers/40-hook-01/etc/stamp"));
        Run();
        var first = Stamp();
        Run();
        Assert.Equal(first, Stamp());
        File.WriteAllText(lib, "GREETING=two\n");
        Run();
        var second = Stamp();
        Assert.NotEqual(first, second);
        File.WriteAllText(helpers, "# helpers 2\n");
        Run();
        var third = Stamp();
        Assert.NotEqual(second, third);
        Run(t => t.ImageVersion = "1.0.1");
        Assert.NotEqual(third, Stamp());
    }

    [RootFact]
    public void ProcessLeftRunningByAHookIsKilledAndReported()
    {
        // the hook waits until its child has become 'sleep' (under load, a forked child may still be the shell when the hook ends)
        var task = Hooks("#!/bin/sh\nsleep 321 &\nuntil grep -q 321 /proc/$!/cmdline 2>/dev/null; do :; done\necho started\n");
        Assert.True(task.Execute(), _engine.AllErrors);
        var warning = Assert.Single(_engine.Warnings);
        Assert.Equal("LIVE3002", warning.Code);
        Assert.Contains("sleep 321", warning.Message);
        Assert.DoesNotContain(Directory.GetDirectories("/proc"), p => ReadCmdline(p).Contains("sleep 321"));
    }

    [RootFact]
    public void CancellingARunningHookLeavesNoMountAndNoProcess()
    {
        var task = Hooks("#!/bin/sh\nsleep 654 &\nsleep 655\n");
        var run = Task.Run(task.Execute);
        var deadline = DateTime.UtcNow.AddSeconds(20);
        string? sleeper = null;
        while ((sleeper = Directory.GetDirectories("/proc").FirstOrDefault(p => ReadCmdline(p).Contains("sleep 655"))) is null && DateTime.UtcNow < deadline) Thread.Sleep(100);
        Assert.NotNull(sleeper);
        // the overlay exists, but only in the hook's own mount namespace
        Assert.Contains(File.ReadAllLines(Path.Combine(sleeper, "mounts")), l => l.Contains(_dir.Path, StringComparison.Ordinal));
        Assert.Empty(MountsBelowTemp());
        task.Cancel();
        Assert.False(run.Wait(TimeSpan.FromSeconds(20)) && run.Result);
        Assert.Contains("LIVE9002", _engine.ErrorCodes);
        // the kernel tears the namespace down after its init died: on a loaded machine that takes a moment
        bool Left() => MountsBelowTemp().Any() || Directory.GetDirectories("/proc").Any(p => ReadCmdline(p).Contains("sleep 65"));
        var gone = DateTime.UtcNow.AddSeconds(10);
        while (Left() && DateTime.UtcNow < gone) Thread.Sleep(100);
        Assert.Empty(MountsBelowTemp());
        Assert.DoesNotContain(Directory.GetDirectories("/proc"), p => ReadCmdline(p).Contains("sleep 65"));
    }

    [RootFact]
    public void HookUnmountingOrMountingHostPathsCannotTouchTheHostMountTable()
    {
        var before = File.ReadAllLines("/proc/self/mounts");
        var task = Hooks("#!/bin/sh\numount -l /sys/fs/cgroup 2>/dev/null; umount -l /dev/shm 2>/dev/null; mount -t tmpfs liveimage-test-escape /mnt\necho done\n");
        Assert.True(task.Execute(), _engine.AllErrors);
        var after = File.ReadAllLines("/proc/self/mounts");
        Assert.Equal(before, after);
        Assert.DoesNotContain(after, l => l.StartsWith("liveimage-test-escape ", StringComparison.Ordinal));
    }

    [Theory]
    [InlineData("E: Unable to locate package no-such-pkg", "no-such-pkg")]
    [InlineData("E: Package 'ghost' has no installation candidate", "ghost")]
    [InlineData("Setting up less (1.0) ...", null)]
    public void MissingPackageIsFoundInAptOutput(string output, string? expected) =>
        Assert.Equal(expected, Apt.FindMissingPackage(output));

    private static string ReadCmdline(string procDir)
    {
        try { return File.ReadAllText(Path.Combine(procDir, "cmdline")).Replace('\0', ' '); }
        catch (IOException) { return ""; }
        catch (UnauthorizedAccessException) { return ""; }
    }
}
