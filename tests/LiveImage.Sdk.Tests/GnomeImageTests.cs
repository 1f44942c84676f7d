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
            var manifest = File.ReadAllLines(Path.ChangeExtension(iso, ".packages"));
            output.WriteLine($"GNOME: built in {build.Duration.TotalMinutes:0.0} min, ISO {new FileInfo(iso).Length / (1024 * 1024)} MiB, {manifest.Length} packages");
            Assert.Contains(manifest, l => l.StartsWith("gdm3 ", StringComparison.Ordinal));
            Assert.Contains(manifest, l => l.StartsWith("gnome-shell ", StringComparison.Ordinal));

            var boot = workspace.Build(project, output, "-t:BootTest");
            Assert.True(boot.Succeeded, "the GNOME image did not boot to login");
            Assert.Matches(new Regex(@"boot test bios-cdrom reached login in [\d.]+ s"), boot.Output);
            var screenshots = Directory.GetFiles(Path.Combine(project, "obj"), "*.png", SearchOption.AllDirectories);
            Assert.NotEmpty(screenshots);
            output.WriteLine("screenshot: " + screenshots[0]);
        }
        finally
        {
            if (Environment.GetEnvironmentVariable("LIVEIMAGE_KEEP_TEST_OUTPUT") != "1") Directory.Delete(workspace.Root, recursive: true);
        }
    }
}
