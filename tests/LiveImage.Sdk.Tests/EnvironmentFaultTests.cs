namespace LiveImage.Sdk.Tests;

/// <summary>
/// The machine failing the build rather than the project: a disk that fills up while the image's
/// packages are written, a mirror that cannot be reached. Each is a coded error naming what ran out
/// or what could not be reached, and leaves no half-written stage that a later build would trust.
/// </summary>
[Collection(MinimalImageCollection.Name)]
public sealed class EnvironmentFaultTests(MinimalImageFixture image, ITestOutputHelper output)
{
    private const string Obj = "obj/Release/amd64";

    /// <summary>
    /// Runs 'dotnet build' with obj/Release/amd64 on a small ext4 filesystem, in a mount namespace of
    /// the build's own (the host never sees it). The given layers of the built copy stay visible
    /// through bind mounts; everything else in obj/Release/amd64 starts empty on the small disk.
    /// </summary>
    private (BuildResult Result, string Disk) BuildOnSmallDisk(string copy, string size, string[] keptLayers, params string[] arguments)
    {
        var disk = Path.Combine(image.Workspace.Root, Path.GetFileName(copy) + ".ext4");
        Assert.Equal(0, Tools.Run("truncate", "-s", size, disk).ExitCode);
        Assert.Equal(0, Tools.Run("mkfs.ext4", "-q", "-F", disk).ExitCode);
        var small = Path.Combine(image.Workspace.Root, Path.GetFileName(copy) + ".mnt");
        Directory.CreateDirectory(small);
        const string script = """
            set -e
            disk=$1 obj=$2 small=$3 layers=$4; shift 4
            mount -o loop "$disk" "$small"
            mkdir -p "$small/layers"
            for l in $layers; do mkdir "$small/layers/$l"; mount --bind "$obj/layers/$l" "$small/layers/$l"; done
            # the stamps (and the stages' other outputs) say the kept layers are built; without kept layers, every stage runs
            if [ -n "$layers" ]; then cp -a "$obj"/*.stamp "$obj"/*.inputs.* "$small/"; for f in configure.password source-date-epoch packages.bom; do cp -a "$obj/$f" "$small/" 2>/dev/null || true; done; fi
            mount --rbind "$small" "$obj"
            exec "$@"
            """;
        string[] wrapper = ["unshare", "--mount", "--propagation", "private", "sh", "-c", script, "liveimage-small-disk",
            disk, Path.Combine(copy, Obj), small, string.Join(' ', keptLayers)];
        var result = image.Workspace.Run(copy, output, wrapper, ["build", "-nodeReuse:false", "-tl:off", "-v:n", "-nologo", .. arguments]);
        Directory.Delete(small);
        return (result, disk);
    }

    /// <summary>What a path on the (unmounted) small disk holds, read with debugfs; empty when the path is missing.</summary>
    private static string Ls(string disk, string path)
    {
        var (code, text) = Tools.Run("debugfs", "-R", $"ls -l {path}", disk);
        Assert.Equal(0, code);
        return text;
    }

    private void AssertNothingLeftBehind(string copy, string disk)
    {
        Assert.Empty(Tools.MountsBelow(copy));
        Assert.Empty(Tools.ProcessesMentioning(copy));
        var settled = DateTime.UtcNow.AddSeconds(10);
        while (Tools.Run("losetup", "-j", disk).Output.Trim().Length > 0 && DateTime.UtcNow < settled) Thread.Sleep(200);
        Assert.Equal("", Tools.Run("losetup", "-j", disk).Output.Trim());
    }

    [Fact]
    public void DiskFullWhileInstallingPackagesIsLIVE2017NamingStageAndFreeSpace()
    {
        var copy = image.CopyOfBuiltImage("disk-full-packages", """<Package Include="vim" />""");
        // 16 MiB: vim's runtime alone unpacks to about 40 MiB. No package cache: it would be copied onto the small disk
        var (result, disk) = BuildOnSmallDisk(copy, "16M", ["00-bootstrap", "10-configure"], "-p:PackageCacheDirectory=");
        try
        {
            Assert.False(result.Succeeded);
            Assert.Matches(@"error LIVE2017: The disk filled up in stage packages: apt-get install( \(writing its log\))? failed with ""[^""]*No space left on device[^""]*""\. The stage's half-written layer was removed; free now on the filesystem of '[^']*/layers/20-packages': \d+ MiB\.", result.Output);
            Assert.DoesNotContain("LIVE2010", result.Output);
            Assert.DoesNotContain("packages.stamp", Ls(disk, "/"));
            Assert.DoesNotContain("usr", Ls(disk, "/layers/20-packages"));
            AssertNothingLeftBehind(copy, disk);
        }
        finally
        {
            File.Delete(disk);
        }
    }

    [Fact]
    public void DiskFullDuringBootstrapIsLIVE2017NamingTheStage()
    {
        var copy = image.CopyOfBuiltImage("disk-full-bootstrap");
        // nothing kept: the bootstrap runs from the start, onto a disk far too small for it
        var (result, disk) = BuildOnSmallDisk(copy, "48M", [], "-p:PackageCacheDirectory=");
        try
        {
            Assert.False(result.Succeeded);
            Assert.Matches(@"error LIVE2017: The disk filled up in stage bootstrap: mmdebstrap failed with ""[^""]*"".*free now on the filesystem of '[^']*/layers/00-bootstrap': \d+ MiB\.", result.Output);
            Assert.DoesNotContain("LIVE2010", result.Output);
            Assert.DoesNotContain("bootstrap.stamp", Ls(disk, "/"));
            AssertNothingLeftBehind(copy, disk);
        }
        finally
        {
            File.Delete(disk);
        }
    }

    [Fact]
    public void AnUnreachableMirrorIsLIVE2018NamingItAndLeavesNothing()
    {
        var copy = image.CopyOfBuiltImage("mirror-unreachable");
        var result = image.Workspace.Build(copy, output, "-p:BuildMirror=http://127.0.0.1:9/debian");
        output.WriteLine($"failed after {result.Duration.TotalSeconds:0} s");
        Assert.False(result.Succeeded);
        Assert.Contains("error LIVE2018: The package mirror 'http://127.0.0.1:9/debian' could not be reached in stage bootstrap: Could not connect to 127.0.0.1:9", result.Output);
        Assert.DoesNotContain("LIVE2010", result.Output);
        Assert.False(File.Exists(Path.Combine(copy, Obj, "bootstrap.stamp")));
        Assert.Empty(Tools.MountsBelow(copy));
        Assert.Empty(Tools.ProcessesMentioning(copy));
        Assert.Empty(Directory.GetFileSystemEntries(Path.Combine(copy, Obj, "scratch/bootstrap/tmp")));
    }
}
