using static LiveImage.Tasks.Tests.Items;

namespace LiveImage.Tasks.Tests;

public sealed class SquashTests : IDisposable
{
    private readonly TempDirectory _dir = new();
    private readonly FakeBuildEngine _engine = new();

    public void Dispose() => _dir.Dispose();

    /// <summary>
    /// mksquashfs can exit 0 having written a few KiB when the disk fills up: a stub that does just
    /// that must give LIVE4001, and leave no squashfs that looks complete. The module mode runs
    /// mksquashfs without a namespace, so this needs no root.
    /// </summary>
    [Fact]
    public void ASquashfsUnderOneMiBIsLIVE4001()
    {
        var stub = _dir.File("bin/mksquashfs", "#!/bin/sh\nhead -c 4096 /dev/zero > \"$2\"\n", executable: true);
        var layer = Path.Combine(_dir.Path, "layers/00-bootstrap");
        Directory.CreateDirectory(layer);
        var live = Path.Combine(_dir.Path, "iso/live");
        var task = new Squash
        {
            BuildEngine = _engine,
            Architecture = "amd64",
            Layers = [Item(layer)],
            ScratchDirectory = Path.Combine(_dir.Path, "scratch"),
            LiveDirectory = live,
            LogFile = Path.Combine(_dir.Path, "logs/squash.log"),
            Modules = true,
            Mksquashfs = stub,
        };
        Assert.False(task.Execute());
        var error = Assert.Single(_engine.Errors);
        Assert.Equal("LIVE4001", error.Code);
        Assert.Contains("00-bootstrap.squashfs", error.Message);
        Assert.Contains("of only 4096 bytes", error.Message);
        Assert.Empty(Directory.GetFiles(live, "*.squashfs*"));
    }

    /// <summary>A configuration-only level (RebuildWhenBaseChanges=false) may not touch dpkg's or apt's state: those files are what LIVE1055 names.</summary>
    [Fact]
    public void ThePackageDatabaseChangesOfALevelAreItsFilesUnderVarLibDpkgAndApt()
    {
        var changes = Path.Combine(_dir.Path, "changes");
        _dir.File("changes/etc/motd", "hello");
        _dir.File("changes/var/lib/dpkg/status", "Package: file");
        _dir.File("changes/var/lib/dpkg/info/file.list", "/usr/bin/file");
        _dir.File("changes/var/lib/apt/extended_states", "");
        _dir.File("changes/var/lib/aptitude/pkgstates", ""); // not apt's
        Directory.CreateDirectory(Path.Combine(changes, "var/lib/apt/lists/partial"));

        Assert.Equal(["/var/lib/apt/extended_states", "/var/lib/dpkg/info/file.list", "/var/lib/dpkg/status"], Squash.PackageDatabaseChanges(changes));
        Assert.Empty(Squash.PackageDatabaseChanges(Path.Combine(_dir.Path, "changes/etc")));
    }
}
