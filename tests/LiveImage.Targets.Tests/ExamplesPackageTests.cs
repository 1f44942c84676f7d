using System.IO.Compression;

namespace LiveImage.Targets.Tests;

/// <summary>The SDK package carries the examples the README points at (examples/), the samples' hooks among them.</summary>
public class ExamplesPackageTests
{
    [Fact]
    public void TheSdkPackageShipsTheExamplesAndTheSamplesHooks()
    {
        using var package = ZipFile.OpenRead(Path.Combine(TestEnvironment.PackageFeed, $"LiveImage.Sdk.{TestEnvironment.SdkVersion}.nupkg"));
        var names = package.Entries.Select(e => e.FullName).ToHashSet();

        string[] expected =
        [
            "examples/README.md",
            "examples/hooks/0200-tools-with-helpers.sh",
            "examples/hooks/0300-in-the-image.sh",
            "examples/targets/KernelVersion.targets",
            "examples/samples/debian-live-minimal/debian-live-minimal.liveproj",
            "examples/samples/debian-live-minimal/hooks/0100-motd.sh",
            "examples/samples/debian-live-gnome/hooks/0100-gnome-defaults.sh",
            "examples/samples/modular/console/hooks/0100-issue.sh",
        ];
        Assert.All(expected, name => Assert.Contains(name, names));
        Assert.DoesNotContain(names, n => n.StartsWith("examples/", StringComparison.Ordinal) && (n.Contains("/obj/") || n.Contains("/bin/")));
        // every hook of the packed samples is there, byte for byte
        var samples = Path.Combine(TestEnvironment.RepoRoot, "samples");
        var hooks = new[] { "debian-live-minimal", "debian-live-gnome", "modular" }
            .SelectMany(sample => Directory.EnumerateFiles(Path.Combine(samples, sample), "*.sh", SearchOption.AllDirectories))
            .Where(h => !h.Contains("/obj/") && !h.Contains("/bin/"));
        foreach (var hook in hooks)
        {
            var entry = package.GetEntry("examples/samples/" + Path.GetRelativePath(samples, hook));
            Assert.True(entry is not null, $"{hook} is not in the package");
            using var reader = new StreamReader(entry.Open());
            Assert.Equal(File.ReadAllText(hook), reader.ReadToEnd());
        }
        using (var helpers = new StreamReader(package.GetEntry("examples/hooks/0200-tools-with-helpers.sh")!.Open()))
            Assert.Contains(". \"$LIVEIMAGE_HELPERS\"", helpers.ReadToEnd());
    }
}
