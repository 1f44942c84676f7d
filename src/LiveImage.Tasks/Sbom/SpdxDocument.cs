using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;

namespace LiveImage.Tasks.Sbom;

/// <summary>One installed binary package, as the bill of materials lists it.</summary>
internal sealed record SbomPackage(string Name, string Version, string Architecture, string Source, string SourceVersion, IReadOnlyList<string> Licences)
{
    /// <summary>A line of the finalize stage's bill of materials ("name\tversion\tarch\tsource\tsource version\tlicence|licence").</summary>
    public static SbomPackage? Parse(string line)
    {
        var f = line.Split('\t');
        if (f.Length < 5 || f[0].Length == 0) return null;
        var source = f[3].Length > 0 ? f[3] : f[0];
        var sourceVersion = f[4].Length > 0 ? f[4] : f[1];
        var licences = f.Length > 5 ? f[5].Split('|', StringSplitOptions.RemoveEmptyEntries) : [];
        return new SbomPackage(f[0], f[1], f[2], source, sourceVersion, licences);
    }

    /// <summary>pkg:deb/debian/NAME@VERSION?arch=ARCH, the version percent-encoded (an epoch's ':', '+' and '~').</summary>
    public string Purl(string distribution) => $"pkg:deb/{distribution}/{Encode(Name)}@{Encode(Version)}?arch={Encode(Architecture)}";

    private static string Encode(string text) =>
        string.Concat(Encoding.UTF8.GetBytes(text).Select(b => char.IsAsciiLetterOrDigit((char)b) || b is (byte)'.' or (byte)'-' or (byte)'_' ? ((char)b).ToString() : $"%{b:X2}"));
}

/// <summary>A file the document describes (the ISO, a squashfs) and its checksums.</summary>
internal sealed record SbomFile(string Name, string Sha256, string Sha1);

/// <summary>
/// An SPDX 2.3 JSON document of an image: the ISO file, the squashfs files it contains, and every installed
/// binary package (name, version, architecture as a purl, its source package and version, its licences)
/// contained in the root file system. Everything in it follows from its inputs: the creation time is the
/// image's SOURCE_DATE_EPOCH and the namespace is derived from the ISO's checksum, so two builds of the
/// same image write the same bytes.
/// </summary>
internal static class SpdxDocument
{
    public static string Write(string name, string distribution, SbomFile iso, IReadOnlyList<SbomFile> squashfs,
        IReadOnlyList<SbomPackage> packages, DateTimeOffset created, string creator)
    {
        var references = new SortedSet<string>(StringComparer.Ordinal);
        var buffer = new MemoryStream();
        using (var json = new Utf8JsonWriter(buffer, new JsonWriterOptions { Indented = true, Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping }))
        {
            json.WriteStartObject();
            json.WriteString("spdxVersion", "SPDX-2.3");
            json.WriteString("dataLicense", "CC0-1.0");
            json.WriteString("SPDXID", "SPDXRef-DOCUMENT");
            json.WriteString("name", name);
            json.WriteString("documentNamespace", $"https://spdx.org/spdxdocs/{Uri.EscapeDataString(name)}-{NamespaceId(iso)}");
            json.WriteStartObject("creationInfo");
            json.WriteString("created", created.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture));
            json.WriteStartArray("creators");
            json.WriteStringValue(creator);
            json.WriteEndArray();
            json.WriteEndObject();

            json.WriteStartArray("packages");
            foreach (var p in packages)
            {
                json.WriteStartObject();
                json.WriteString("SPDXID", PackageId(p));
                json.WriteString("name", p.Name);
                json.WriteString("versionInfo", p.Version);
                json.WriteString("downloadLocation", "NOASSERTION");
                json.WriteBoolean("filesAnalyzed", false);
                json.WriteString("sourceInfo", $"built from the {distribution} source package {p.Source} {p.SourceVersion}");
                json.WriteString("licenseConcluded", "NOASSERTION");
                json.WriteString("licenseDeclared", SpdxLicence.Expression(p.Licences, references));
                json.WriteString("copyrightText", "NOASSERTION");
                json.WriteStartArray("externalRefs");
                json.WriteStartObject();
                json.WriteString("referenceCategory", "PACKAGE-MANAGER");
                json.WriteString("referenceType", "purl");
                json.WriteString("referenceLocator", p.Purl(distribution));
                json.WriteEndObject();
                json.WriteEndArray();
                json.WriteEndObject();
            }
            json.WriteEndArray();

            json.WriteStartArray("files");
            foreach (var (file, index) in squashfs.Prepend(iso).Select((f, i) => (f, i)))
            {
                json.WriteStartObject();
                json.WriteString("SPDXID", FileId(index));
                json.WriteString("fileName", "./" + file.Name);
                json.WriteStartArray("checksums");
                WriteChecksum(json, "SHA1", file.Sha1);
                WriteChecksum(json, "SHA256", file.Sha256);
                json.WriteEndArray();
                json.WriteString("licenseConcluded", "NOASSERTION");
                json.WriteString("copyrightText", "NOASSERTION");
                json.WriteEndObject();
            }
            json.WriteEndArray();

            if (references.Count > 0)
            {
                json.WriteStartArray("hasExtractedLicensingInfos");
                foreach (var reference in references)
                {
                    json.WriteStartObject();
                    json.WriteString("licenseId", reference);
                    json.WriteString("name", reference["LicenseRef-".Length..]);
                    json.WriteString("extractedText", $"The licence named '{reference["LicenseRef-".Length..]}' in the packages' machine-readable copyright files (/usr/share/doc/PACKAGE/copyright in the image).");
                    json.WriteEndObject();
                }
                json.WriteEndArray();
            }

            json.WriteStartArray("relationships");
            WriteRelationship(json, "SPDXRef-DOCUMENT", "DESCRIBES", FileId(0));
            for (var i = 1; i <= squashfs.Count; i++) WriteRelationship(json, FileId(0), "CONTAINS", FileId(i));
            // a package lives in the root file system: with several squashfs modules, the stack of them
            foreach (var p in packages)
                for (var i = 1; i <= squashfs.Count; i++) WriteRelationship(json, FileId(i), "CONTAINS", PackageId(p));
            json.WriteEndArray();
            json.WriteEndObject();
        }
        return Encoding.UTF8.GetString(buffer.ToArray()) + "\n";
    }

    /// <summary>SPDXRef-Package-NAME-ARCH: the package's name, which is unique per architecture, in the characters SPDX allows.</summary>
    internal static string PackageId(SbomPackage p) =>
        "SPDXRef-Package-" + string.Concat((p.Name + "-" + p.Architecture).Select(c => char.IsAsciiLetterOrDigit(c) || c is '.' or '-' ? c : '-'));

    private static string FileId(int index) => index == 0 ? "SPDXRef-File-iso" : $"SPDXRef-File-squashfs-{index}";

    /// <summary>A UUID-shaped id from the ISO's checksum: the same image, the same namespace.</summary>
    private static string NamespaceId(SbomFile iso)
    {
        var hash = SHA256.HashData(Encoding.UTF8.GetBytes("LiveImage.Sdk SPDX " + iso.Sha256));
        return new Guid(hash[..16]).ToString();
    }

    private static void WriteChecksum(Utf8JsonWriter json, string algorithm, string value)
    {
        json.WriteStartObject();
        json.WriteString("algorithm", algorithm);
        json.WriteString("checksumValue", value);
        json.WriteEndObject();
    }

    private static void WriteRelationship(Utf8JsonWriter json, string element, string type, string related)
    {
        json.WriteStartObject();
        json.WriteString("spdxElementId", element);
        json.WriteString("relationshipType", type);
        json.WriteString("relatedSpdxElement", related);
        json.WriteEndObject();
    }
}
