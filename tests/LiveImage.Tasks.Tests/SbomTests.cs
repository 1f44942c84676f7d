using System.Text.Json;
using Json.Schema;
using LiveImage.Tasks.Distributions.Debian;
using LiveImage.Tasks.Sbom;

namespace LiveImage.Tasks.Tests;

/// <summary>
/// The SBOM: the finalize stage's bill of materials, Debian's licence names in SPDX terms, purls,
/// and the SPDX 2.3 document itself, checked against the SPDX 2.3 JSON schema and for being the
/// same bytes for the same inputs.
/// </summary>
public sealed class SbomTests
{
    private static readonly string[] FinalizeLog =
    [
        "pkg bash 5.2.37-2+b10 amd64",
        "sbom bash\t5.2.37-2+b10\tamd64\tbash\t5.2.37-2",
        "sbom libc6\t2.41-12\tamd64\tglibc\t2.41-12",
        "sbom bsdutils\t1:2.41.5-0+deb13u1\tamd64\tutil-linux\t2.41.5-0+deb13u1",
        "license bash\tGPL-3+|BSD-4-clause-UC|",
        "license libc6\tLGPL-2.1+ with GCC exception|GPL-2+ or Artistic|",
    ];

    [Fact]
    public void The_bill_of_materials_joins_each_package_with_its_source_and_licences()
    {
        var lines = Apt.BillOfMaterials(FinalizeLog);
        Assert.Equal(
        [
            "bash\t5.2.37-2+b10\tamd64\tbash\t5.2.37-2\tGPL-3+|BSD-4-clause-UC",
            "libc6\t2.41-12\tamd64\tglibc\t2.41-12\tLGPL-2.1+ with GCC exception|GPL-2+ or Artistic",
            "bsdutils\t1:2.41.5-0+deb13u1\tamd64\tutil-linux\t2.41.5-0+deb13u1\t",
        ], lines);
    }

    [Fact]
    public void Debian_licence_names_become_spdx_identifiers_or_licence_refs()
    {
        var references = new SortedSet<string>();
        Assert.Equal("GPL-2.0-or-later", SpdxLicence.Expression(["GPL-2+"], references));
        Assert.Equal("(GPL-2.0-or-later OR Artistic-1.0-Perl) AND MIT", SpdxLicence.Expression(["Expat", "GPL-2+ or Artistic"], references));
        Assert.Equal("LicenseRef-public-domain", SpdxLicence.Expression(["public-domain"], references));
        Assert.Equal("NOASSERTION", SpdxLicence.Expression([], references));
        Assert.Equal(["LicenseRef-public-domain"], references);
    }

    [Fact]
    public void A_purl_percent_encodes_the_epoch_and_plus()
    {
        var p = SbomPackage.Parse("bsdutils\t1:2.41.5-0+deb13u1\tamd64\tutil-linux\t2.41.5-0+deb13u1\t")!;
        Assert.Equal("pkg:deb/debian/bsdutils@1%3A2.41.5-0%2Bdeb13u1?arch=amd64", p.Purl("debian"));
        Assert.Equal("util-linux", p.Source);
        Assert.Empty(p.Licences);
    }

    [Fact]
    public void The_document_validates_against_the_spdx_schema_and_is_the_same_for_the_same_image()
    {
        var text = Document();
        Assert.Equal(text, Document());
        var schema = JsonSchema.FromFile(Path.Combine(RepoRoot(), "tests/LiveImage.Sdk.Tests/Schemas/spdx-2.3.schema.json"));
        var result = schema.Evaluate(JsonDocument.Parse(text).RootElement, new EvaluationOptions { OutputFormat = OutputFormat.List });
        Assert.True(result.IsValid, string.Join("\n", (result.Details ?? []).Where(d => d.Errors is not null).SelectMany(d => d.Errors!.Select(e => $"{d.InstanceLocation}: {e.Value}"))));

        var json = JsonDocument.Parse(text).RootElement;
        Assert.Equal("2026-11-21T09:15:44Z", json.GetProperty("creationInfo").GetProperty("created").GetString());
        var packages = json.GetProperty("packages").EnumerateArray().ToList();
        Assert.Equal(3, packages.Count);
        var libc = packages.Single(p => p.GetProperty("name").GetString() == "libc6");
        Assert.Contains("glibc 2.41-12", libc.GetProperty("sourceInfo").GetString());
        Assert.Equal("(GPL-2.0-or-later OR Artistic-1.0-Perl) AND LicenseRef-LGPL-2.1-with-GCC-exception", libc.GetProperty("licenseDeclared").GetString());
        Assert.Contains(json.GetProperty("hasExtractedLicensingInfos").EnumerateArray(), l => l.GetProperty("licenseId").GetString() == "LicenseRef-LGPL-2.1-with-GCC-exception");
        Assert.Equal(new string('a', 64), json.GetProperty("files")[0].GetProperty("checksums")[1].GetProperty("checksumValue").GetString());
    }

    private static string Document() => SpdxDocument.Write("image-1.0.0-amd64", "debian",
        new SbomFile("image-1.0.0-amd64.iso", new string('a', 64), new string('b', 40)),
        [new SbomFile("live/filesystem.squashfs", new string('c', 64), new string('d', 40))],
        Apt.BillOfMaterials(FinalizeLog).Select(SbomPackage.Parse).OfType<SbomPackage>().ToList(),
        DateTimeOffset.FromUnixTimeSeconds(1795252544), "Tool: LiveImage.Sdk");

    private static string RepoRoot()
    {
        var dir = AppContext.BaseDirectory;
        while (!File.Exists(Path.Combine(dir, "LiveImage.Sdk.sln"))) dir = Path.GetDirectoryName(dir)!;
        return dir;
    }
}
