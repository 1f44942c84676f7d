using LiveImage.Tasks.Diagnostics;
using LiveImage.Tasks.Distributions.Debian;
using LiveImage.Tasks.Packages;
using static LiveImage.Tasks.Tests.Items;

namespace LiveImage.Tasks.Tests;

/// <summary>packages.lock.&lt;arch&gt;: its format, what it is read from, the stages' inputs it gives, LockedMode and Refresh's summary.</summary>
public sealed class PackageLockTests : IDisposable
{
    private readonly TempDirectory _dir = new();

    public void Dispose() => _dir.Dispose();

    private static PackageLock Sample() => PackageLock.Create(
        [new LockedArchive("trixie-security", DateTimeOffset.Parse("2026-11-26T21:03:36Z")), new LockedArchive("trixie", DateTimeOffset.Parse("2026-11-21T09:15:44Z"))],
        [new LockedPackage("libc6", "2.41-12+deb13u5", "amd64"), new LockedPackage("base-files", "13.8+deb13u8", "amd64")],
        [new LockedPackage("less", "668-1", "amd64"), new LockedPackage("krb5-locales", "1.21.3-5+deb13u1", "all")]);

    [Fact]
    public void TheFileIsSortedSectionsOfOneEntryPerLineAndReadsBackTheSame()
    {
        var text = Sample().Write("amd64");
        var lines = text.Split('\n').Where(l => l.Length > 0 && !l.StartsWith('#')).ToList();
        Assert.Equal([
            "[archives]", "trixie 2026-11-21T09:15:44Z", "trixie-security 2026-11-26T21:03:36Z",
            "[bootstrap]", "base-files 13.8+deb13u8 amd64", "libc6 2.41-12+deb13u5 amd64",
            "[packages]", "krb5-locales 1.21.3-5+deb13u1 all", "less 668-1 amd64"], lines);
        var read = PackageLock.Parse(text, "packages.lock.amd64");
        Assert.Equal(text, read.Write("amd64"));
        Assert.Equal(DateTimeOffset.Parse("2026-11-21T09:15:44Z").ToUnixTimeSeconds(), read.SourceDateEpoch("trixie"));
        Assert.Null(read.SourceDateEpoch("forky"));
    }

    [Theory]
    [InlineData("[packages]\nless 668-1\n", 2)]
    [InlineData("less 668-1 amd64\n", 1)]
    [InlineData("# comment\n[archives]\ntrixie yesterday\n", 3)]
    [InlineData("[things]\n", 1)]
    public void ALineThatIsNoEntryOfItsSectionIsNamed(string text, int line)
    {
        var error = Assert.Throws<LiveImageException>(() => PackageLock.Parse(text, "/p/packages.lock.amd64"));
        Assert.Equal(nameof(Strings.PackageLockInvalid), error.ResourceName);
        Assert.Equal(["/p/packages.lock.amd64", line], error.Arguments.Take(2));
    }

    [Fact]
    public void EachStageHasItsOwnInput()
    {
        var before = Sample();
        var newerLess = PackageLock.Create(before.Archives, before.Bootstrap, [new LockedPackage("less", "668-2", "amd64"), before.Packages[0]]);
        Assert.Equal(before.BootstrapInput("trixie"), newerLess.BootstrapInput("trixie"));
        Assert.NotEqual(before.PackagesInput(), newerLess.PackagesInput());
        var newerLibc = PackageLock.Create(before.Archives, [new LockedPackage("libc6", "2.41-13", "amd64"), before.Bootstrap[0]], before.Packages);
        Assert.NotEqual(before.BootstrapInput("trixie"), newerLibc.BootstrapInput("trixie"));
        Assert.NotEqual(before.PackagesInput(), newerLibc.PackagesInput());
        // the suite's date is the image's SOURCE_DATE_EPOCH: the bootstrap's input
        var laterSuite = PackageLock.Create([new LockedArchive("trixie", DateTimeOffset.Parse("2027-01-10T10:00:00Z"))], before.Bootstrap, before.Packages);
        Assert.NotEqual(before.BootstrapInput("trixie"), laterSuite.BootstrapInput("trixie"));
        Assert.StartsWith("PackageLock=", before.PackagesInput());
    }

    [Fact]
    public void ChangesNameEveryPackageWhoseVersionDiffers()
    {
        var before = Sample();
        var after = PackageLock.Create(before.Archives, before.Bootstrap,
            [new LockedPackage("krb5-locales", "1.21.3-5+deb13u2", "all"), new LockedPackage("tmux", "3.5a-3", "amd64")]);
        Assert.Equal([("krb5-locales", "1.21.3-5+deb13u1", "1.21.3-5+deb13u2"), ("less", "668-1", ""), ("tmux", "", "3.5a-3")], PackageLock.Changes(before, after));
        Assert.Empty(PackageLock.Changes(before, Sample()));
    }

    /// <summary>A stage cache entry from before the lock is taken only for the same versions (StageTask): a change, a package more or less is another set.</summary>
    [Fact]
    public void SameVersionsMeansTheSamePackagesVersionsAndArchitecturesInAnyOrder()
    {
        var locked = Sample().All.ToList();
        Assert.True(PackageLock.SameVersions(locked, Enumerable.Reverse(locked)));
        Assert.False(PackageLock.SameVersions(locked, locked.Select(p => p.Name == "less" ? p with { Version = "661-1" } : p)));
        Assert.False(PackageLock.SameVersions(locked, locked.Select(p => p.Name == "less" ? p with { Architecture = "i386" } : p)));
        Assert.False(PackageLock.SameVersions(locked, locked.Skip(1)));
        Assert.False(PackageLock.SameVersions(locked, locked.Append(new LockedPackage("tmux", "3.5a-3", "amd64"))));
    }

    [Fact]
    public void AptIsHeldToTheLockedVersionsEvenDowngrading()
    {
        var text = Apt.LockPreferences([new LockedPackage("less", "668-1", "amd64"), new LockedPackage("libc6", "2.41-12", "i386"), new LockedPackage("tzdata", "2026f", "all")], "amd64");
        Assert.Equal("Package: less\nPin: version 668-1\nPin-Priority: 1001\n\nPackage: libc6:i386\nPin: version 2.41-12\nPin-Priority: 1001\n\nPackage: tzdata\nPin: version 2026f\nPin-Priority: 1001\n\n", text);
    }

    [Fact]
    public void InstalledPackagesAndArchiveDatesComeFromTheLayers()
    {
        _dir.File("low/var/lib/dpkg/status", "Package: a\nStatus: install ok installed\nVersion: 1\nArchitecture: amd64\n");
        _dir.File("high/var/lib/dpkg/status", "Package: a\nStatus: install ok installed\nArchitecture: amd64\nVersion: 2\nDescription: x\n more\n\nPackage: b\nStatus: deinstall ok config-files\nVersion: 1\nArchitecture: all\n\nPackage: c\nStatus: install ok installed\nVersion: 1:3\nArchitecture: all\n");
        _dir.File("low/var/lib/apt/lists/h_debian_dists_trixie_InRelease", "-----BEGIN PGP SIGNED MESSAGE-----\nHash: SHA512\n\nOrigin: Debian\nSuite: stable\nCodename: trixie\nDate: Sat, 21 Nov 2026 09:15:44 UTC\nSHA256:\n abc 1 main/Packages\n-----BEGIN PGP SIGNATURE-----\n");
        _dir.File("high/var/lib/apt/lists/h_debian_dists_trixie_InRelease", "Suite: stable\nCodename: trixie\nDate: Sat, 28 Nov 2026 09:15:44 UTC\n");
        _dir.File("low/var/lib/apt/lists/h_debian-security_dists_trixie-security_InRelease", "Suite: stable-security\nDate: Thu, 26 Nov 2026 21:03:36 UTC\n");
        var layers = new[] { Path.Combine(_dir.Path, "high"), Path.Combine(_dir.Path, "low") };
        Assert.Equal([new LockedPackage("a", "2", "amd64"), new LockedPackage("c", "1:3", "all")], DpkgStatus.InstalledVersions(layers));
        Assert.Equal([new LockedPackage("a", "1", "amd64")], DpkgStatus.InstalledVersions([layers[1]]));
        var archives = DpkgStatus.ArchiveDates(layers).OrderBy(a => a.Suite).Select(a => a.ToString());
        Assert.Equal(["stable-security 2026-11-26T21:03:36Z", "trixie 2026-11-28T09:15:44Z"], archives);
    }

    [Fact]
    public void RefreshReadsAptsCandidatesAndTheirSecurityArchive()
    {
        const string policy = """
            krb5-locales:
              Installed: (none)
              Candidate: 1.21.3-5+deb13u2
              Version table:
                 1.21.3-5+deb13u2 500
                    500 http://mirror.invalid/debian-security trixie-security/main amd64 Packages
                 1.21.3-5+deb13u1 500
                    500 http://mirror.invalid/debian trixie/main amd64 Packages
            less:
              Installed: 668-1
              Candidate: 668-1
              Version table:
             *** 668-1 500
                    500 http://mirror.invalid/debian trixie/main amd64 Packages
                    100 /var/lib/dpkg/status
            gone:
              Installed: (none)
              Candidate: (none)
            """;
        Assert.Equal([("krb5-locales", "1.21.3-5+deb13u2", true), ("less", "668-1", false)], Apt.ParsePolicy(policy));
    }

    [Fact]
    public void LockedModeNamesAPackageTheLockLacks()
    {
        var lockFile = _dir.File("packages.lock.amd64", Sample().Write("amd64"));
        var engine = new FakeBuildEngine();
        var task = new ReadPackageLock
        {
            BuildEngine = engine, LockFile = lockFile, Suite = "trixie", LockedMode = true,
            Packages = [Item("less"), Item("libc6:amd64"), Item("krb5-locales=1.21.3-5+deb13u1"), Item("tmux=3.5a-3"), Item("?priority(required)")],
        };
        Assert.False(task.Execute());
        var error = Assert.Single(engine.Errors);
        Assert.Equal("LIVE1100", error.Code);
        Assert.Contains("'tmux'", error.Message);
        Assert.Contains("dotnet build -t:Refresh", error.Message);
        Assert.Equal(Sample().PackagesInput(), task.PackagesInput);

        task.LockedMode = false;
        Assert.True(new ReadPackageLock { BuildEngine = new FakeBuildEngine(), LockFile = lockFile, Suite = "trixie", Packages = task.Packages }.Execute());
        var missing = new ReadPackageLock { BuildEngine = engine = new FakeBuildEngine(), LockFile = lockFile + ".none", Suite = "trixie", LockedMode = true };
        Assert.False(missing.Execute());
        Assert.Equal(["LIVE1103"], engine.ErrorCodes);
    }

    [Fact]
    public void TheLockIsWrittenOnlyWhenItChangesAndTheStagesInputsFollowIt()
    {
        _dir.File("layers/00-bootstrap/var/lib/dpkg/status", "Package: libc6\nStatus: install ok installed\nVersion: 2.41\nArchitecture: amd64\n");
        _dir.File("layers/20-packages/var/lib/dpkg/status", "Package: libc6\nStatus: install ok installed\nVersion: 2.41\nArchitecture: amd64\n\nPackage: less\nStatus: install ok installed\nVersion: 668-1\nArchitecture: amd64\n");
        _dir.File("layers/00-bootstrap/var/lib/apt/lists/x_dists_trixie_InRelease", "Codename: trixie\nDate: Sat, 21 Nov 2026 09:15:44 UTC\n");
        var obj = Path.Combine(_dir.Path, "obj");
        var cache = _dir.File("obj/packages.inputs.cache", "Package=less;Recommends=true\n");
        var done = _dir.File("obj/packages.inputs.done", "Package=less;Recommends=true\n");
        var old = new DateTime(2026, 1, 1, 0, 0, 0, DateTimeKind.Utc);
        File.SetLastWriteTimeUtc(cache, old);
        var lockFile = Path.Combine(_dir.Path, "packages.lock.amd64");
        WritePackageLock Task(bool locked = false) => new()
        {
            BuildEngine = new FakeBuildEngine(), LockFile = lockFile, Suite = "trixie", Architecture = "amd64", InputsDirectory = obj, LockedMode = locked,
            Layers = [Item(Path.Combine(_dir.Path, "layers/00-bootstrap")), Item(Path.Combine(_dir.Path, "layers/10-configure")), Item(Path.Combine(_dir.Path, "layers/20-packages"))],
            BootstrapLayers = [Item(Path.Combine(_dir.Path, "layers/00-bootstrap"))],
        };
        Assert.True(Task().Execute());
        var written = PackageLock.Parse(File.ReadAllText(lockFile), lockFile);
        Assert.Equal(["libc6 2.41 amd64"], written.Bootstrap.Select(p => p.ToString()));
        Assert.Equal(["less 668-1 amd64"], written.Packages.Select(p => p.ToString()));
        Assert.Equal(["trixie 2026-11-21T09:15:44Z"], written.Archives.Select(a => a.ToString()));
        // the stage's inputs now name the lock it produced, and keep their time (the stage stays up to date)
        Assert.Equal("Package=less;Recommends=true\n" + written.PackagesInput() + "\n", File.ReadAllText(cache));
        Assert.Equal(File.ReadAllText(cache), File.ReadAllText(done));
        Assert.Equal(old, File.GetLastWriteTimeUtc(cache));

        // unchanged: not written again
        File.SetLastWriteTimeUtc(lockFile, old);
        Assert.True(Task().Execute());
        Assert.Equal(old, File.GetLastWriteTimeUtc(lockFile));

        // LockedMode: a difference is an error, and the lock stays as it is
        var edited = File.ReadAllText(lockFile).Replace("less 668-1", "less 667-1");
        File.WriteAllText(lockFile, edited);
        var engine = new FakeBuildEngine();
        var locked = Task(locked: true);
        locked.BuildEngine = engine;
        Assert.False(locked.Execute());
        Assert.Equal(["LIVE1101"], engine.ErrorCodes);
        Assert.Contains("less: locked 667-1, installed 668-1", engine.AllErrors);
        Assert.Equal(edited, File.ReadAllText(lockFile));

        // without it the lock follows the image
        Assert.True(Task().Execute());
        Assert.Contains("less 668-1 amd64", File.ReadAllText(lockFile));
    }
}

/// <summary>A level built on a base image gets a document of its own module: the packages it adds to the base, or changes.</summary>
public sealed class ModuleSbomTests : IDisposable
{
    private readonly TempDirectory _dir = new();

    public void Dispose() => _dir.Dispose();

    [Fact]
    public void A_modules_document_lists_only_what_the_module_adds_or_changes()
    {
        _dir.File("base/var/lib/dpkg/status", "Package: bash\nStatus: install ok installed\nVersion: 5.2\nArchitecture: amd64\n\nPackage: libc6\nStatus: install ok installed\nVersion: 2.41-12\nArchitecture: amd64\n");
        var bom = _dir.File("packages.bom", "bash\t5.2\tamd64\tbash\t5.2\tGPL-3+\nlibc6\t2.41-13\tamd64\tglibc\t2.41-13\t\nnginx\t1.26\tamd64\tnginx\t1.26\tBSD-2-clause\n");
        var iso = _dir.File("image.iso", "iso");
        var module = _dir.File("live/base-web.squashfs", "module");
        var output = Path.Combine(_dir.Path, "image.module.spdx.json");
        var task = new WriteSbom
        {
            BuildEngine = new FakeBuildEngine(), BillOfMaterialsFile = bom, IsoPath = iso, SquashfsFiles = [Items.Item(module)], OutputFile = output,
            Architecture = "amd64", SourceDateEpoch = "1795252544", BaseLayers = [Items.Item(Path.Combine(_dir.Path, "base"))],
        };
        Assert.True(task.Execute());
        var json = System.Text.Json.JsonDocument.Parse(File.ReadAllText(output)).RootElement;
        Assert.Equal(["libc6", "nginx"], json.GetProperty("packages").EnumerateArray().Select(p => p.GetProperty("name").GetString()).Where(n => n is "bash" or "libc6" or "nginx"));
        Assert.Contains("live/base-web.squashfs", File.ReadAllText(output));
    }
}
