using System.Security.Cryptography;
using System.Text.Json;
using Json.Schema;

namespace LiveImage.Sdk.Tests;

/// <summary>
/// Reproducible images and the SBOM, on the built minimal sample: a second build from clean gives the
/// same bytes (-t:VerifyReproducible; the one expensive test here, a cold build with the warm package
/// cache), a hook that writes the date is caught and named, and the SPDX document validates against the
/// SPDX 2.3 schema and lists exactly the packages dpkg lists in the image.
/// </summary>
[Collection(MinimalImageCollection.Name)]
public sealed class ReproducibleImageTests(MinimalImageFixture image, ITestOutputHelper output)
{
    private const string Iso = "debian-live-minimal-1.0.0-amd64.iso";

    [Fact]
    public void A_second_build_from_clean_gives_the_same_iso_squashfs_netboot_folder_and_sbom()
    {
        var copy = image.CopyOfBuiltImage("reproducible");
        var build = image.Workspace.Build(copy, output, "-t:VerifyReproducible");
        Assert.True(build.Succeeded, "-t:VerifyReproducible of the minimal sample failed");
        Assert.Contains("bootstrap [amd64]: runs because it has not completed before", build.Output); // the second build started from clean
        Assert.Contains("verify-reproducible [amd64]: two builds are identical", build.Output);

        var second = Path.Combine(copy, "obj/Release/amd64/reproducible");
        var first = Tools.Sha256(image.IsoPath);
        Assert.Equal(first, Tools.Sha256(Path.Combine(second, "bin/Release/amd64", Iso)));
        Assert.Equal(Tools.Sha256(image.Squashfs), Tools.Sha256(Path.Combine(second, "obj/Release/amd64/iso/live/filesystem.squashfs")));
        Assert.Equal(File.ReadAllText(Path.ChangeExtension(image.IsoPath, ".spdx.json")),
            File.ReadAllText(Path.Combine(second, "bin/Release/amd64", Path.ChangeExtension(Iso, ".spdx.json"))));
        output.WriteLine($"sha256 of both ISOs: {first}");
    }

    [Fact]
    public void A_hook_that_writes_the_date_is_named_by_verify_reproducible()
    {
        var copy = image.CopyOfBuiltImage("not-reproducible");
        var hook = Path.Combine(copy, "hooks", "0200-build-date.sh");
        File.WriteAllText(hook, "#!/bin/sh\nset -eu\ndate +%s.%N > \"$1/etc/build-date\"\n");
        File.SetUnixFileMode(hook, (UnixFileMode)Convert.ToInt32("755", 8));

        var build = image.Workspace.Build(copy, output, "-t:VerifyReproducible", "-p:VerifyReproducibleFrom=hooks");
        Assert.False(build.Succeeded, "a hook writing the date passed -t:VerifyReproducible");
        Assert.Contains("error LIVE1085", build.Output);
        Assert.Matches(@"LIVE1085: .* differ in ISO, live/filesystem\.squashfs", build.Output);
        Assert.Matches(@"in live/filesystem\.squashfs: [^,]*/etc/build-date", build.Output);
        Assert.DoesNotContain("bootstrap [amd64]: runs because", build.Output); // the stages below the hooks were shared
    }

    [Fact]
    public void The_sbom_validates_against_the_spdx_schema_and_lists_every_installed_package()
    {
        Assert.True(image.ColdBuild.Succeeded, "the cold build of the minimal sample failed");
        var path = Path.ChangeExtension(image.IsoPath, ".spdx.json");
        var text = File.ReadAllText(path);
        var schema = JsonSchema.FromFile(Path.Combine(TestEnvironment.RepoRoot, "tests/LiveImage.Sdk.Tests/Schemas/spdx-2.3.schema.json"));
        var result = schema.Evaluate(JsonDocument.Parse(text).RootElement, new EvaluationOptions { OutputFormat = OutputFormat.List });
        Assert.True(result.IsValid, string.Join("\n", (result.Details ?? []).Where(d => d.Errors is not null).SelectMany(d => d.Errors!.Select(e => $"{d.InstanceLocation}: {e.Value}"))));

        var json = JsonDocument.Parse(text).RootElement;
        // dpkg-query -W, as the finalize stage ran it in the image
        var installed = Tools.ReadFromSquashfs(image.Squashfs, "var/lib/liveimage-packages.manifest").Split('\n', StringSplitOptions.RemoveEmptyEntries)
            .Select(l => l.Split(' ')).Select(f => $"pkg:deb/debian/{PurlEncode(f[0])}@{PurlEncode(f[1])}?arch={f[2]}").Order().ToList();
        var listed = json.GetProperty("packages").EnumerateArray()
            .Select(p => p.GetProperty("externalRefs")[0].GetProperty("referenceLocator").GetString()!).Order().ToList();
        Assert.True(installed.Count > 50, $"only {installed.Count} packages in the image's manifest");
        Assert.Equal(installed, listed);
        var bash = json.GetProperty("packages").EnumerateArray().Single(p => p.GetProperty("name").GetString() == "bash");
        Assert.Contains("GPL-3.0-or-later", bash.GetProperty("licenseDeclared").GetString());
        Assert.Contains("source package bash ", bash.GetProperty("sourceInfo").GetString());
        Assert.Equal(Tools.Sha256(image.IsoPath), json.GetProperty("files")[0].GetProperty("checksums").EnumerateArray()
            .Single(c => c.GetProperty("algorithm").GetString() == "SHA256").GetProperty("checksumValue").GetString());
    }

    /// <summary>A purl's name and version are percent-encoded: libstdc++6 is libstdc%2B%2B6, an epoch's ':' is %3A.</summary>
    private static string PurlEncode(string text) =>
        string.Concat(text.Select(c => char.IsAsciiLetterOrDigit(c) || c is '.' or '-' or '_' ? c.ToString() : $"%{(int)c:X2}"));

}
