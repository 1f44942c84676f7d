using LiveImage.Tasks.BootTesting;
using LiveImage.Tasks.Configuration;
using LiveImage.Tasks.Distributions.Debian;
using LiveImage.Tasks.Packages;
using LiveImage.Tasks.Rootfs;

using static LiveImage.Tasks.Tests.Items;

namespace LiveImage.Tasks.Tests;

/// <summary>AptSource items (extra archives with keys) and LivePasswordFile, without building anything.</summary>
public sealed class AptSourceTests : IDisposable
{
    private const string ArmouredKey = "-----BEGIN PGP PUBLIC KEY BLOCK-----\n\nmQINBF...\n-----END PGP PUBLIC KEY BLOCK-----\n";
    private readonly TempDirectory _dir = new();
    private readonly FakeBuildEngine _engine = new();

    public void Dispose() => _dir.Dispose();

    private (AptSourceEntry? Entry, string? Error, object[] Args) Parse(string name, params (string, string)[] metadata) =>
        AptSourceEntry.Parse(Item(name, metadata), "trixie", _dir.Path);

    [Fact]
    public void ASourceWithAKeyIsADeb822StanzaSignedByItsOwnKeyring()
    {
        _dir.File("keys/extra.asc", ArmouredKey);
        var (entry, error, _) = Parse("extra", ("Uri", "https://archive.example/debian"), ("Components", "main;contrib"), ("Key", "keys/extra.asc"));
        Assert.Null(error);
        Assert.Equal("etc/apt/sources.list.d/liveimage-extra.sources", entry!.SourcesFile);
        Assert.Equal("etc/apt/keyrings/liveimage-extra.asc", entry.KeyFile);
        Assert.Equal(
            "# LiveImage.Sdk: AptSource 'extra'\nTypes: deb\nURIs: https://archive.example/debian\nSuites: trixie\nComponents: main contrib\nSigned-By: /etc/apt/keyrings/liveimage-extra.asc\n",
            entry.ToDeb822());
        Assert.True(entry.InBuild);
        Assert.True(entry.InImage);
    }

    [Fact]
    public void AFlatRepositoryHasNoComponentsAndABinaryKeyKeepsTheGpgExtension()
    {
        File.WriteAllBytes(Path.Combine(_dir.Path, "local.gpg"), [0x99, 0x01, 0x0D, 0x04]);
        var (entry, error, _) = Parse("local", ("Uri", "http://127.0.0.1:8080/"), ("Suites", "./"), ("Key", "local.gpg"), ("Use", "build"));
        Assert.Null(error);
        Assert.Equal("etc/apt/keyrings/liveimage-local.gpg", entry!.KeyFile);
        Assert.DoesNotContain("Components:", entry.ToDeb822());
        Assert.Contains("Suites: ./\n", entry.ToDeb822());
        Assert.True(entry.InBuild);
        Assert.False(entry.InImage);
    }

    [Fact]
    public void ATrustedSourceWithoutKeySaysSo()
    {
        var (entry, _, _) = Parse("mine", ("Uri", "file:/srv/repo"), ("Trusted", "true"), ("Use", "image"));
        Assert.Contains("Trusted: yes\n", entry!.ToDeb822());
        Assert.DoesNotContain("Signed-By", entry.ToDeb822());
        Assert.False(entry.InBuild);
    }

    [Theory]
    [InlineData("Bad Name", "https://a.example/debian", "", "", "its name")]
    [InlineData("ok", "archive.example/debian", "", "", "is not an http://")]
    [InlineData("ok", "ftp://archive.example/debian", "", "", "is not an http://")]
    [InlineData("ok", "https://a.example/debian", "sometimes", "", "Use 'sometimes'")]
    [InlineData("ok", "https://a.example/debian", "", "./", "takes no Components")]
    public void BadItemsAreLIVE1023NamingWhatIsWrong(string name, string uri, string use, string suites, string expected)
    {
        var metadata = new List<(string, string)> { ("Uri", uri), ("Use", use), ("Suites", suites) };
        if (suites.Length > 0) metadata.Add(("Components", "main"));
        var (entry, error, args) = Parse(name, [.. metadata]);
        Assert.Null(entry);
        Assert.Equal("AptSourceInvalid", error);
        Assert.Contains(expected, (string)args[1]);
    }

    [Fact]
    public void AKeyThatIsMissingOrNotOpenPgpIsLIVE1024()
    {
        Assert.Equal("AptSourceKey", Parse("a", ("Uri", "https://a.example/d"), ("Key", "nope.asc")).Error);
        _dir.File("text.asc", "just text");
        var (_, error, args) = Parse("a", ("Uri", "https://a.example/d"), ("Key", "text.asc"));
        Assert.Equal("AptSourceKey", error);
        Assert.Contains("not an OpenPGP public key", (string)args[2]);
    }

    [Fact]
    public void WriteIntoPutsTheSourceAndTheKeyWhereTheStanzaSaysWorldReadable()
    {
        var key = _dir.File("k.asc", ArmouredKey);
        var (entry, _, _) = Parse("extra", ("Uri", "https://a.example/debian"), ("Key", "k.asc"));
        var root = Path.Combine(_dir.Path, "layer");
        entry!.WriteInto(root);
        Assert.Equal(ArmouredKey, File.ReadAllText(Path.Combine(root, "etc/apt/keyrings/liveimage-extra.asc")));
        Assert.Equal(entry.ToDeb822(), File.ReadAllText(Path.Combine(root, "etc/apt/sources.list.d/liveimage-extra.sources")));
        Assert.True(File.GetUnixFileMode(Path.Combine(root, entry.SourcesFile)).HasFlag(UnixFileMode.OtherRead));
        Assert.Equal(key, AptSourceEntry.FromItem(entry.ToItem()).KeyPath);
    }

    [Fact]
    public void ResolveFiltersByArchitectureAndRejectsTwoSourcesOfOneName()
    {
        var task = new ResolveLiveImageConfiguration
        {
            BuildEngine = _engine, Architecture = "amd64", Suite = "trixie", IsRoot = () => true, ProjectDirectory = _dir.Path,
            AptSources =
            [
                Item("a", ("Uri", "https://a.example/debian")),
                Item("arm", ("Uri", "https://b.example/debian"), ("Architectures", "arm64")),
            ],
        };
        Assert.True(task.Execute(), _engine.AllErrors);
        var only = Assert.Single(task.ResolvedAptSources);
        Assert.Equal("a", only.ItemSpec);
        Assert.Equal("main", only.GetMetadata("Components"));
        Assert.Equal("trixie", only.GetMetadata("Suites"));

        task.AptSources = [Item("a", ("Uri", "https://a.example/debian")), Item("a", ("Uri", "https://c.example/debian"))];
        Assert.False(task.Execute());
        Assert.Contains(_engine.Errors, e => e.Code == "LIVE1023" && e.Message!.Contains("same name"));
    }

    [Fact]
    public void TheBootCheckAcceptsTheImagesOwnAptSources()
    {
        var sources = QemuBuiltInChecks.ParseAptSources(
            "==> /etc/apt/sources.list\ndeb http://mirror.example/debian trixie main\n==> /etc/apt/sources.list.d/liveimage-extra.sources\nTypes: deb\nURIs: http://127.0.0.1:8080/\nSuites: ./\n");
        Assert.Contains("loopback", Assert.Single(QemuBuiltInChecks.AptSourceProblems(sources, "http://mirror.example/debian")));
        Assert.Empty(QemuBuiltInChecks.AptSourceProblems(sources, "http://mirror.example/debian", ["http://127.0.0.1:8080"]));
    }

    [Fact]
    public void APasswordFileWinsAndItsPasswordIsNoOutput()
    {
        var file = _dir.File("secrets/live-password", "s3cret-word\n");
        var task = new ResolveLiveImageConfiguration
        {
            BuildEngine = _engine, Architecture = "amd64", Suite = "trixie", IsRoot = () => true, ProjectDirectory = _dir.Path,
            LiveUser = "user", LivePassword = "live", LivePasswordFile = "secrets/live-password",
        };
        Assert.True(task.Execute(), _engine.AllErrors);
        Assert.Equal("", task.ResolvedLivePassword);
        Assert.Equal(file, task.ResolvedLivePasswordFile);
        Assert.DoesNotContain(_engine.Messages, m => m.Message!.Contains("s3cret-word"));
    }

    [Theory]
    [InlineData(null, "does not exist")]
    [InlineData("\n", "is empty")]
    [InlineData("user:pw\n", "colon")]
    public void AnUnusablePasswordFileIsLIVE1025(string? content, string expected)
    {
        if (content is not null) _dir.File("pw", content);
        var task = new ResolveLiveImageConfiguration
        {
            BuildEngine = _engine, Architecture = "amd64", Suite = "trixie", IsRoot = () => true, ProjectDirectory = _dir.Path,
            LiveUser = "user", LivePasswordFile = "pw",
        };
        Assert.False(task.Execute());
        var error = Assert.Single(_engine.Errors);
        Assert.Equal("LIVE1025", error.Code);
        Assert.Contains(expected, error.Message);
    }
}

public sealed class LayerUsageTests : IDisposable
{
    private readonly TempDirectory _dir = new();

    public void Dispose() => _dir.Dispose();

    [Fact]
    public void PackagesComeFromTheTopmostDpkgStatusAndBytesFromRegularFiles()
    {
        _dir.File("low/var/lib/dpkg/status", "Package: a\nStatus: install ok installed\n\nPackage: b\nStatus: install ok installed\n");
        _dir.File("high/var/lib/dpkg/status", "Package: a\nStatus: install ok installed\n\nPackage: b\nStatus: deinstall ok config-files\n\nPackage: c\nStatus: install ok half-installed\n");
        _dir.File("empty/etc/hostname", "12345");
        var low = Path.Combine(_dir.Path, "low");
        var high = Path.Combine(_dir.Path, "high");
        var empty = Path.Combine(_dir.Path, "empty");
        Assert.Equal(1, DpkgStatus.InstalledPackages([empty, high, low]));
        Assert.Equal(2, DpkgStatus.InstalledPackages([empty, low]));
        Assert.Null(DpkgStatus.InstalledPackages([empty]));
        File.CreateSymbolicLink(Path.Combine(empty, "link"), "/etc/passwd");
        Assert.Equal(5, LayerUsage.Bytes(empty));
    }
}
