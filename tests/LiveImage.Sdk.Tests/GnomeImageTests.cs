using System.Text.RegularExpressions;

namespace LiveImage.Sdk.Tests;

/// <summary>A test that takes tens of minutes: it runs when LIVEIMAGE_SLOW_TESTS=1 (eng/test.sh --slow).</summary>
public sealed class SlowFactAttribute : FactAttribute
{
    public SlowFactAttribute()
    {
        if (Environment.GetEnvironmentVariable("LIVEIMAGE_SLOW_TESTS") != "1") Skip = "slow: set LIVEIMAGE_SLOW_TESTS=1 (eng/test.sh --slow)";
    }
}

/// <summary>The GNOME desktop sample: builds with plain dotnet build and boots to GDM.</summary>
[Trait("Category", "Slow")]
public sealed class GnomeImageTests(ITestOutputHelper output)
{
    [SlowFact]
    public void GnomeSampleBuildsAndBootsToTheGdmLoginScreen()
    {
        var workspace = new Workspace("gnome");
        try
        {
            var project = workspace.CopySample("debian-live-gnome");
            var build = workspace.Build(project, output);
            Assert.True(build.Succeeded, "the GNOME sample did not build");
            var iso = Path.Combine(project, "bin/Release/amd64/debian-live-gnome-1.0.0-amd64.iso");
            var squashfs = Path.Combine(project, "obj/Release/amd64/iso/live/filesystem.squashfs");
            var manifest = File.ReadAllLines(Path.ChangeExtension(iso, ".packages"));
            output.WriteLine($"GNOME: built in {build.Duration.TotalMinutes:0.0} min, ISO {new FileInfo(iso).Length / (1024 * 1024)} MiB, " +
                $"squashfs {new FileInfo(squashfs).Length / (1024 * 1024)} MiB, {manifest.Length} packages");
            Assert.Contains(manifest, l => l.StartsWith("gdm3 ", StringComparison.Ordinal));
            Assert.Contains(manifest, l => l.StartsWith("gnome-shell ", StringComparison.Ordinal));
            Assert.Contains(manifest, l => l.StartsWith("live-task-standard ", StringComparison.Ordinal));

            var boot = workspace.Build(project, output, "-t:BootTest");
            Assert.True(boot.Succeeded, "the GNOME image did not boot to login, or a boot check (gdm active, the greeter's gnome-shell running) failed");
            var reached = Regex.Match(boot.Output, @"boot test bios-cdrom reached login in ([\d.]+) s");
            Assert.True(reached.Success, "no 'reached login' line in the boot test's output");
            output.WriteLine($"GNOME: serial login prompt after {reached.Groups[1].Value} s");

            // The screenshot is taken after the checks, with the greeter up: it must show a graphical
            // screen (a text console is 720x400) with something drawn on it, not one flat colour.
            var screenshot = Path.Combine(project, "obj/Release/amd64/boot/bios-cdrom.png");
            Assert.True(File.Exists(screenshot), $"no screenshot at {screenshot}");
            var image = PngImage.Read(screenshot);
            output.WriteLine($"screenshot: {screenshot}: {image}");
            Assert.True(image.Width >= 800 && image.Height >= 600, $"the screenshot is {image.Width}x{image.Height}: a text console, not the graphical login");
            Assert.True(image.DistinctColours >= 16, $"the screenshot has {image.DistinctColours} colours: the screen is blank or text, not the GDM greeter");
            Assert.True(image.DominantShare < 0.995, $"one colour covers {image.DominantShare:P1} of the screenshot: nothing is drawn on it");
        }
        finally
        {
            if (Environment.GetEnvironmentVariable("LIVEIMAGE_KEEP_TEST_OUTPUT") != "1") Directory.Delete(workspace.Root, recursive: true);
        }
    }
}
