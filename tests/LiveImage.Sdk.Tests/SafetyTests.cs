namespace LiveImage.Sdk.Tests;

/// <summary>
/// Issue 6 end to end, cheaply: the built minimal image is verified on every Release build and by
/// -t:VerifyImage; a full disk while squashing is reported as such; a hook that unlocks root fails
/// the build at verification. Bad input and the build lock, which need no image, are tested in
/// LiveImage.Targets.Tests.
/// </summary>
[Collection(MinimalImageCollection.Name)]
public sealed class SafetyTests(MinimalImageFixture image, ITestOutputHelper output)
{
    [Fact]
    public void ReleaseBuildsVerifyTheImageOnceAndVerifyImageAgainOnRequest()
    {
        Assert.True(image.ColdBuild.Succeeded, "the cold build of the minimal sample failed");
        Assert.Contains("verify [amd64]: no findings", image.ColdBuild.Output);
        Assert.True(File.Exists(Path.Combine(image.ProjectDirectory, "obj/Release/amd64/verify.stamp")));

        var again = image.Workspace.Build(image.ProjectDirectory, output);
        Assert.True(again.Succeeded);
        Assert.Contains("Skipping target \"_LiveImageVerifyOnBuild\" because all output files are up-to-date", again.Output);

        var verify = image.Workspace.Build(image.ProjectDirectory, output, "-t:VerifyImage");
        Assert.True(verify.Succeeded);
        Assert.Single(verify.Output.Split('\n'), l => l.Trim() == "verify [amd64]: no findings");
    }

    [Fact]
    public void DiskFullWhileSquashingIsLIVE4012NamingStageAndFreeSpaceAndLeavesNoMountOrLoopDevice()
    {
        var copy = image.CopyOfBuiltImage("disk-full");
        var live = Path.Combine(copy, "obj/Release/amd64/iso/live");
        File.Delete(Path.Combine(live, "filesystem.squashfs")); // the squash stage reruns
        // 96 MiB: room for the kernel and initrd (about 55 MiB), not for the 200 MiB squashfs
        var disk = Path.Combine(image.Workspace.Root, "disk-full.ext4");
        Assert.Equal(0, Tools.Run("truncate", "-s", "96M", disk).ExitCode);
        Assert.Equal(0, Tools.Run("mkfs.ext4", "-q", "-F", disk).ExitCode);
        try
        {
            // the small disk is mounted over live/ in a mount namespace of the build's own: the host never sees it
            string[] wrapper = ["unshare", "--mount", "--propagation", "private", "sh", "-c", "mount -o loop \"$0\" \"$1\" && shift && exec \"$@\"", disk, live];
            var result = image.Workspace.Run(copy, output, wrapper, ["build", "-nodeReuse:false", "-tl:off", "-v:n", "-nologo"]);
            Assert.False(result.Succeeded);
            Assert.Matches(@"error LIVE4012: The disk filled up in stage squash: mksquashfs ran out of space writing '[^']*/live/filesystem\.squashfs' \(free there now, with the partial output removed: \d+ MiB\)", result.Output);
            Assert.DoesNotContain("LIVE2010", result.Output);
            Assert.False(File.Exists(Path.Combine(live, "filesystem.squashfs")), "no squashfs that looks up to date");
            Assert.Empty(Tools.MountsBelow(copy));
            var settled = DateTime.UtcNow.AddSeconds(10);
            while (Tools.Run("losetup", "-j", disk).Output.Trim().Length > 0 && DateTime.UtcNow < settled) Thread.Sleep(200);
            Assert.Equal("", Tools.Run("losetup", "-j", disk).Output.Trim());
        }
        finally
        {
            File.Delete(disk);
        }
    }

    [Fact]
    public void AHookThatUnlocksRootFailsTheBuildAtVerificationAndAgainNextTime()
    {
        var hook = """
            #!/bin/sh
            set -e
            sed -i 's/^root:[^:]*:/root::/' "$1/etc/shadow"
            echo 'Acquire::http::Proxy "http://proxy.invalid:3128";' > "$1/etc/apt/apt.conf.d/99proxy"
            """;
        var copy = image.CopyOfBuiltImage("verify-fails");
        File.WriteAllText(Path.Combine(copy, "hooks/0200-unlock-root.sh"), hook + "\n");
        File.SetUnixFileMode(Path.Combine(copy, "hooks/0200-unlock-root.sh"), UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);

        var result = image.Workspace.Build(copy, output);
        Assert.False(result.Succeeded);
        Assert.Contains("error LIVE4018: root has an empty password", result.Output);
        Assert.Contains("warning LIVE4015: The image's apt configuration sets a proxy (/etc/apt/apt.conf.d/99proxy, line 1", result.Output);
        Assert.True(File.Exists(Path.Combine(copy, "bin/Release/amd64/debian-live-minimal-1.0.0-amd64.iso")), "the ISO stays for inspection");
        Assert.Empty(Tools.MountsBelow(copy));

        // nothing is rebuilt, and the finding is not forgotten
        var next = image.Workspace.Build(copy, output);
        Assert.False(next.Succeeded);
        Assert.Contains("error LIVE4018", next.Output);
        Assert.Contains("Skipping target \"LiveImageIso\" because all output files are up-to-date", next.Output);
    }
}
