using System.Reflection.Metadata;
using System.Reflection.PortableExecutable;
using System.Text.RegularExpressions;

namespace LiveImage.Sdk.Tests;

/// <summary>The end-to-end contract of issue 2 on the minimal sample: build, incrementality, contents, boot.</summary>
[Collection(MinimalImageCollection.Name)]
public sealed class MinimalImageTests(MinimalImageFixture image, ITestOutputHelper output)
{
    private static readonly string[] Stages =
    [
        "LiveImageBootstrap", "LiveImageConfigure", "LiveImagePackages", "LiveImageIncludes",
        "LiveImageHooks", "LiveImageFinalize", "LiveImageSquash", "LiveImageIso",
    ];

    private void AssertColdBuildSucceeded()
    {
        if (!image.ColdBuild.Succeeded) output.WriteLine(image.ColdBuild.Output);
        Assert.True(image.ColdBuild.Succeeded, "the cold build of the minimal sample failed; its output is above");
    }

    [Fact]
    public void ColdBuildWritesTheIsoAndNamesItLast()
    {
        AssertColdBuildSucceeded();
        output.WriteLine($"cold build: {image.ColdBuild.Duration.TotalSeconds:0.0} s, ISO {new FileInfo(image.IsoPath).Length / (1024 * 1024)} MiB");
        Assert.True(File.Exists(image.IsoPath));
        var lines = image.ColdBuild.Output.Split('\n').Select(l => l.Trim()).ToList();
        var arrow = lines.FindLastIndex(l => l.StartsWith("debian-live-minimal -> ", StringComparison.Ordinal));
        Assert.True(arrow >= 0, "no 'debian-live-minimal -> <iso>' line");
        Assert.Equal($"debian-live-minimal -> {image.IsoPath}", lines[arrow]);
        // every stage reported before the result line
        Assert.DoesNotContain(lines.Skip(arrow + 1), l => Regex.IsMatch(l, @"^\w+ \[amd64\]: "));
    }

    [Fact]
    public void BuildRanTheFreshlyPackedSdkNotACachedOne()
    {
        AssertColdBuildSucceeded();
        using var pe = new PEReader(File.OpenRead(TestEnvironment.TasksAssembly));
        var reader = pe.GetMetadataReader();
        var mvid = reader.GetGuid(reader.GetModuleDefinition().Mvid);
        Assert.Contains($"(build {mvid})", image.ColdBuild.Output);
    }

    [Fact]
    public void SecondBuildSkipsEveryStage()
    {
        AssertColdBuildSucceeded();
        var isoTime = File.GetLastWriteTimeUtc(image.IsoPath);
        var again = image.Workspace.Build(image.ProjectDirectory, output);
        Assert.True(again.Succeeded);
        foreach (var stage in Stages)
            Assert.Contains($"Skipping target \"{stage}\" because all output files are up-to-date", again.Output);
        Assert.Equal(isoTime, File.GetLastWriteTimeUtc(image.IsoPath));
    }

    [Fact]
    public void ImageHasTheLiveUserInSudoAndALockedRoot()
    {
        AssertColdBuildSucceeded();
        var shadow = Tools.ReadFromSquashfs(image.Squashfs, "etc/shadow");
        Assert.Matches(new Regex("^root:!", RegexOptions.Multiline), shadow);
        Assert.Matches(new Regex("^user:\\$", RegexOptions.Multiline), shadow);
        Assert.Matches(new Regex("^sudo:x:\\d+:.*\\buser\\b", RegexOptions.Multiline), Tools.ReadFromSquashfs(image.Squashfs, "etc/group"));
    }

    [Fact]
    public void ImageIsFinalisedForShipping()
    {
        AssertColdBuildSucceeded();
        Assert.False(Tools.ExistsInSquashfs(image.Squashfs, "/usr/sbin/policy-rc.d"), "policy-rc.d must be gone from the image");
        Assert.True(Tools.ExistsInSquashfs(image.Squashfs, "/usr/bin/less"), "the Package item 'less' is installed");
        Assert.Equal("uninitialized\n", Tools.ReadFromSquashfs(image.Squashfs, "etc/machine-id")); // every boot a first boot
        Assert.Contains("minimal live image", Tools.ReadFromSquashfs(image.Squashfs, "etc/motd"));
        Assert.Equal("debian\n", Tools.ReadFromSquashfs(image.Squashfs, "etc/hostname"));
        Assert.Contains("live-boot ", File.ReadAllText(Path.ChangeExtension(image.IsoPath, ".packages")));
    }

    [Fact]
    public void IsoIsHybridWithBiosAndEfiBootEntries()
    {
        AssertColdBuildSucceeded();
        var (code, report) = Tools.Run("xorriso", "-indev", image.IsoPath, "-report_el_torito", "plain", "-report_system_area", "plain");
        output.WriteLine(report);
        Assert.Equal(0, code);
        Assert.Matches(new Regex(@"El Torito boot img\s*:\s*1\s+BIOS"), report);
        Assert.Matches(new Regex(@"El Torito boot img\s*:\s*2\s+UEFI"), report);
        Assert.Contains("isohybrid", report, StringComparison.OrdinalIgnoreCase);
        Assert.Contains("GPT", report);
        var (_, files) = Tools.Run("xorriso", "-indev", image.IsoPath, "-find", "/live", "-type", "f");
        Assert.Contains("/live/filesystem.squashfs", files);
        Assert.Contains("/live/vmlinuz", files);
        Assert.Contains("/live/initrd.img", files);
    }

    [Fact]
    public void BootsToLoginAsTheLiveUserInEveryIsoModeAndUefiNetboot()
    {
        AssertColdBuildSucceeded();
        // the default is every mode; 'netboot' (BIOS PXE) boots in NetbootImageTests, which shares its boot with a failing check
        string[] modes = ["bios-cdrom", "bios-usb", "uefi-cdrom", "uefi-usb", "netboot-uefi"];
        var boot = image.Workspace.Build(image.ProjectDirectory, output, "-t:BootTest", $"-p:BootTestModes=\"{string.Join(';', modes)}\"");
        Assert.True(boot.Succeeded, "BootTest failed; its output is above");
        foreach (var mode in modes)
            Assert.Matches(new Regex($@"boot test {mode} reached login in [\d.]+ s"), boot.Output);
        // junit.xml: a test case per mode and one per check of each mode
        var cases = System.Xml.Linq.XDocument.Load(Path.Combine(image.ProjectDirectory, "obj/Release/amd64/boot/junit.xml"))
            .Descendants("testcase").Select(c => (string)c.Attribute("name")!).ToList();
        foreach (var mode in modes)
            foreach (var check in new[] { "", ": id", ": root password locked", ": systemctl is-system-running", ": apt sources", ": no /usr/sbin/policy-rc.d" })
                Assert.Contains(mode + check, cases);
    }
}
