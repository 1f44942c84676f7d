using System.Diagnostics;

namespace LiveImage.Sdk.Tests;

/// <summary>
/// A build killed (SIGKILL) or interrupted (Ctrl+C) in each stage, on copies of the built minimal
/// sample: nothing may be left behind (no mount in any namespace, no process, no loop device, no
/// qemu, binfmt_misc as it was), and the next build redoes the interrupted stage instead of
/// trusting what it half wrote. Each copy reruns only the stage it is about and those above it.
/// </summary>
[Collection(MinimalImageCollection.Name)]
public sealed class InterruptionTests(MinimalImageFixture image, ITestOutputHelper output)
{
    private const string Obj = "obj/Release/amd64";
    private const string Iso = "bin/Release/amd64/debian-live-minimal-1.0.0-amd64.iso";

    [Fact]
    public void SigkillDuringBootstrapLeavesNothingAndTheNextBootstrapStartsOver()
    {
        var copy = image.CopyOfBuiltImage("kill-bootstrap");
        File.Delete(Path.Combine(copy, Obj, "bootstrap.stamp")); // mmdebstrap reruns
        // the build's own TMPDIR: a killed mmdebstrap must not leave its temporary files there
        var hostTmp = Path.Combine(copy, "host-tmp");
        Directory.CreateDirectory(hostTmp);
        var log = Path.Combine(copy, Obj, "logs/bootstrap.log");
        var before = Snapshot();

        KillWhen(copy, () => LogContains(log, "I: extracting archives"), "mmdebstrap extracts the archives", wrapper: ["env", $"TMPDIR={hostTmp}"]);

        AssertNothingLeftBehind(copy, before);
        Assert.Empty(Directory.GetFileSystemEntries(hostTmp, "mmdebstrap.*"));
        var layer = Path.Combine(copy, Obj, "layers/00-bootstrap");
        File.WriteAllText(Path.Combine(layer, "liveimage-half-written"), "");

        // only the bootstrap: the stages above it would redo the whole image
        var next = image.Workspace.Build(copy, output, "-t:LiveImageBootstrap");
        Assert.True(next.Succeeded, "the bootstrap after the kill failed");
        Assert.Contains("bootstrap [amd64]: mmdebstrap trixie", next.Output);
        Assert.True(File.Exists(Path.Combine(copy, Obj, "bootstrap.stamp")));
        Assert.False(File.Exists(Path.Combine(layer, "liveimage-half-written")), "the half-written layer was reused");
        Assert.Contains("Package: live-boot\n", File.ReadAllText(Path.Combine(layer, "var/lib/dpkg/status")));
        Assert.Empty(Directory.GetFileSystemEntries(Path.Combine(copy, Obj, "scratch/bootstrap/tmp")));
    }

    [Fact]
    public void SigkillDuringAHookLeavesNothingAndTheNextBuildRerunsTheHook()
    {
        var copy = CopyWithSleepingHook("kill-hook", 6017);
        var before = Snapshot();

        KillWhen(copy, () => File.Exists(Path.Combine(copy, "hook-sleeping")), "the hook sleeps");

        AssertNothingLeftBehind(copy, before);
        Assert.Empty(Tools.ProcessesMentioning("sleep 6017"));
        Assert.False(File.Exists(Path.Combine(copy, Obj, "hooks.stamp")));

        File.Delete(Path.Combine(copy, "sleep-here"));
        var next = image.Workspace.Build(copy, output);
        Assert.True(next.Succeeded, "the build after the kill failed");
        Assert.Contains("hook 0150-sleep.sh [amd64]: done", next.Output);
        Assert.Contains("hooks [amd64]: 0100-motd.sh unchanged, its layer is reused", next.Output);
        var squashfs = Path.Combine(copy, Obj, "iso/live/filesystem.squashfs");
        AssertSquashfsValid(squashfs);
        Assert.Equal("redone\n", Tools.ReadFromSquashfs(squashfs, "/etc/liveimage-interrupted-hook"));
    }

    [Fact]
    public async Task CtrlCDuringAHookCancelsTheBuildLeavesNothingAndTheHookReruns()
    {
        var copy = CopyWithSleepingHook("ctrl-c-hook", 6018);
        var before = Snapshot();

        // setsid: the build leads a process group of its own, which gets the SIGINT as from a terminal
        using (var build = image.Workspace.Start(copy, ["setsid"], ["build", "-nodeReuse:false", "-tl:off", "-v:n", "-nologo"]))
        {
            var text = build.StandardOutput.ReadToEndAsync();
            _ = build.StandardError.ReadToEndAsync();
            WaitFor(build, () => File.Exists(Path.Combine(copy, "hook-sleeping")), "the hook sleeps");
            output.WriteLine($"kill -INT -{build.Id} (Ctrl+C)");
            Assert.Equal(0, Tools.Run("kill", "-INT", "--", $"-{build.Id}").ExitCode);
            Assert.True(build.WaitForExit(TimeSpan.FromMinutes(3)), "the build did not end within 3 minutes of Ctrl+C");
            var cancelled = await text;
            output.WriteLine(cancelled);
            Assert.NotEqual(0, build.ExitCode);
            Assert.DoesNotContain("hook 0150-sleep.sh [amd64]: done", cancelled);
        }

        AssertNothingLeftBehind(copy, before);
        Assert.Empty(Tools.ProcessesMentioning("sleep 6018"));
        Assert.False(File.Exists(Path.Combine(copy, Obj, "hooks.stamp")));

        File.Delete(Path.Combine(copy, "sleep-here"));
        var next = image.Workspace.Build(copy, output, "-t:LiveImageHooks");
        Assert.True(next.Succeeded, "the hooks after Ctrl+C failed");
        Assert.Contains("hook 0150-sleep.sh [amd64]: done", next.Output);
        Assert.True(File.Exists(Path.Combine(copy, Obj, "hooks.stamp")));
        var layer = Assert.Single(Directory.GetDirectories(Path.Combine(copy, Obj, "layers"), "40-hook-*-0150-sleep"));
        Assert.Equal("redone\n", File.ReadAllText(Path.Combine(layer, "etc/liveimage-interrupted-hook")));
    }

    [Fact]
    public void SigkillDuringSquashLeavesNothingAndTheNextBuildSquashesAgain()
    {
        var copy = image.CopyOfBuiltImage("kill-squash");
        var squashfs = Path.Combine(copy, Obj, "iso/live/filesystem.squashfs");
        File.Delete(squashfs); // the squash stage reruns
        var before = Snapshot();

        KillWhen(copy, () => FileHasData(squashfs + ".tmp"), "mksquashfs writes");

        AssertNothingLeftBehind(copy, before);
        Assert.False(File.Exists(squashfs), "an interrupted squashfs has the name of a finished one");

        var next = image.Workspace.Build(copy, output);
        Assert.True(next.Succeeded, "the build after the kill failed");
        Assert.Contains("squash [amd64]: mksquashfs", next.Output);
        Assert.False(File.Exists(squashfs + ".tmp"));
        AssertSquashfsValid(squashfs);
        AssertIsoReadable(Path.Combine(copy, Iso));
    }

    [Fact]
    public void SigkillDuringTheIsoStageLeavesNothingAndTheNextBuildWritesTheIsoAgain()
    {
        var copy = image.CopyOfBuiltImage("kill-iso");
        var iso = Path.Combine(copy, Iso);
        File.Delete(iso); // the ISO stage reruns
        var before = Snapshot();

        KillWhen(copy, () => FileHasData(iso + ".tmp"), "xorriso writes");

        AssertNothingLeftBehind(copy, before);
        Assert.False(File.Exists(iso), "an interrupted ISO has the name of a finished one");

        var next = image.Workspace.Build(copy, output);
        Assert.True(next.Succeeded, "the build after the kill failed");
        Assert.Contains("iso [amd64]: xorriso", next.Output);
        Assert.Contains("Skipping target \"LiveImageSquash\"", next.Output);
        Assert.False(File.Exists(iso + ".tmp"));
        AssertIsoReadable(iso);
    }

    [Fact]
    public void SigkillDuringBootTestStopsQemuAndLeavesNothing()
    {
        var copy = image.CopyOfBuiltImage("kill-boottest");
        var before = Snapshot();

        KillWhen(copy, () => Tools.ProcessesMentioning(copy).Any(p => p.Contains("qemu-system", StringComparison.Ordinal)), "qemu runs",
            arguments: ["-t:BootTest", "-p:BootTestModes=bios-cdrom"]);

        AssertNothingLeftBehind(copy, before);
        Assert.DoesNotContain(Tools.ProcessesMentioning("qemu-system"), p => p.Contains(copy, StringComparison.Ordinal));

        var next = image.Workspace.Build(copy, output);
        Assert.True(next.Succeeded, "the build after the kill failed");
        Assert.Contains("Skipping target \"LiveImageIso\"", next.Output);
    }

    /// <summary>A copy with a hook that writes a file into the image, then, while sleep-here exists, sleeps.</summary>
    private string CopyWithSleepingHook(string name, int seconds)
    {
        var copy = image.CopyOfBuiltImage(name);
        var hook = Path.Combine(copy, "hooks/0150-sleep.sh");
        File.WriteAllText(hook, $"""
            #!/bin/sh
            set -e
            echo redone > "$1/etc/liveimage-interrupted-hook"
            if [ -e "{copy}/sleep-here" ]; then
                touch "{copy}/hook-sleeping"
                sleep {seconds}
            fi

            """);
        File.SetUnixFileMode(hook, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        File.WriteAllText(Path.Combine(copy, "sleep-here"), "");
        return copy;
    }

    /// <summary>Starts 'dotnet build' and sends SIGKILL to the dotnet process alone ('kill -9') once <paramref name="ready"/>.</summary>
    private void KillWhen(string copy, Func<bool> ready, string what, string[]? wrapper = null, string[]? arguments = null)
    {
        using var build = image.Workspace.Start(copy, wrapper ?? [], ["build", "-nodeReuse:false", "-tl:off", "-v:n", "-nologo", .. arguments ?? []]);
        var text = build.StandardOutput.ReadToEndAsync();
        build.StandardError.ReadToEndAsync();
        WaitFor(build, ready, what);
        output.WriteLine($"killing dotnet build (pid {build.Id}) when {what}");
        build.Kill(entireProcessTree: false);
        build.WaitForExit();
        output.WriteLine(text.Result);
    }

    private static void WaitFor(Process build, Func<bool> ready, string what)
    {
        var deadline = DateTime.UtcNow.AddMinutes(10);
        while (!ready() && DateTime.UtcNow < deadline && !build.HasExited) Thread.Sleep(100);
        Assert.False(build.HasExited, $"the build ended before {what}");
        Assert.True(ready(), $"not within 10 minutes: {what}");
    }

    private sealed record HostState(IReadOnlyList<string> Binfmt);

    private static HostState Snapshot() => new(BinfmtEntries());

    /// <summary>binfmt_misc's status and each handler's name and state; empty when binfmt_misc is not mounted.</summary>
    private static IReadOnlyList<string> BinfmtEntries()
    {
        const string dir = "/proc/sys/fs/binfmt_misc";
        if (!File.Exists(Path.Combine(dir, "status"))) return [];
        return Directory.GetFiles(dir).Where(f => Path.GetFileName(f) != "register").Order()
            .Select(f => $"{Path.GetFileName(f)}: {File.ReadLines(f).FirstOrDefault()}").ToList();
    }

    private void AssertNothingLeftBehind(string copy, HostState before)
    {
        var settled = Stopwatch.StartNew();
        while (Tools.ProcessesMentioning(copy).Count > 0 && settled.Elapsed < TimeSpan.FromSeconds(60)) Thread.Sleep(200);
        output.WriteLine($"build's processes gone after {settled.Elapsed.TotalSeconds:0.0} s");
        Assert.Empty(Tools.ProcessesMentioning(copy));
        Assert.Empty(Tools.MountsBelow(copy));
        Assert.Empty(LoopDevicesBelow(copy));
        Assert.Equal(before.Binfmt, BinfmtEntries());
    }

    /// <summary>Loop devices whose backing file is under a directory.</summary>
    private static IReadOnlyList<string> LoopDevicesBelow(string directory) =>
        Directory.GetDirectories("/sys/block", "loop*")
            .Select(d => Path.Combine(d, "loop/backing_file"))
            .Where(File.Exists)
            .Select(f => File.ReadAllText(f).Trim())
            .Where(backing => backing.StartsWith(directory, StringComparison.Ordinal))
            .ToList();

    private static bool LogContains(string log, string text)
    {
        try { return File.Exists(log) && File.ReadAllText(log).Contains(text, StringComparison.Ordinal); }
        catch (IOException) { return false; }
    }

    private static bool FileHasData(string path) => File.Exists(path) && new FileInfo(path).Length > 0;

    private static void AssertSquashfsValid(string squashfs)
    {
        var (code, text) = Tools.Run("unsquashfs", "-s", squashfs);
        Assert.True(code == 0, $"unsquashfs -s {squashfs}: {text}");
        Assert.Contains("Found a valid SQUASHFS", text);
    }

    private static void AssertIsoReadable(string iso)
    {
        var (code, text) = Tools.Run("xorriso", "-indev", iso, "-report_el_torito", "plain");
        Assert.True(code == 0, $"xorriso -indev {iso}: {text}");
        Assert.Contains("El Torito boot img", text);
    }
}
