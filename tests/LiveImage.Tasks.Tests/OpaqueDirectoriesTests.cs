using System.Diagnostics;
using System.Runtime.InteropServices;
using LiveImage.Tasks.Rootfs;

namespace LiveImage.Tasks.Tests;

/// <summary>Opaque directories of a build without root (user.overlay.opaque) become whiteouts a module carries to boot.</summary>
public sealed class OpaqueDirectoriesTests : IDisposable
{
    private readonly TempDirectory _dir = new();

    public void Dispose() => _dir.Dispose();

    [DllImport("libc", EntryPoint = "lsetxattr", SetLastError = true)]
    private static extern int SetXattr([MarshalAs(UnmanagedType.LPUTF8Str)] string path, [MarshalAs(UnmanagedType.LPUTF8Str)] string name, byte[] value, nuint size, int flags);

    private string Layer(string name, params string[] files)
    {
        foreach (var file in files) _dir.File($"{name}/{file}", "x");
        return Path.Combine(_dir.Path, name);
    }

    private static void MarkOpaque(string directory) =>
        Assert.True(SetXattr(directory, "user.overlay.opaque", "y"u8.ToArray(), 1, 0) == 0, $"setxattr: {Marshal.GetLastPInvokeError()}");

    [Fact]
    public void AnOpaqueDirectoryHidesEveryNameOfTheLayersBelowThatItLacks()
    {
        var bottom = Layer("00", "usr/share/doc/less/a", "usr/share/doc/less/b", "etc/keep");
        var middle = Layer("20", "usr/share/doc/less/b", "usr/share/doc/less/c d", "etc/other");
        var hook = Layer("40", "usr/share/doc/less/only-this", "etc/new");
        MarkOpaque(Path.Combine(hook, "usr/share/doc/less"));

        Assert.Equal(["usr/share/doc/less"], OpaqueDirectories.Find(hook));
        var whiteouts = OpaqueDirectories.Whiteouts(hook, [bottom, middle]);
        Assert.Equal(["usr/share/doc/less/a", "usr/share/doc/less/b", "usr/share/doc/less/c d"], whiteouts);
        Assert.Equal("usr/share/doc/less/c\\ d c 000 0 0 0 0\n", OpaqueDirectories.PseudoFile(whiteouts.Skip(2)));
    }

    [Fact]
    public void ALayerWithoutOpaqueDirectoriesNeedsNoWhiteouts()
    {
        var bottom = Layer("00", "etc/skel/.profile");
        var hook = Layer("40", "etc/skel/.extra");
        Assert.Empty(OpaqueDirectories.Whiteouts(hook, [bottom]));
    }

    [Fact]
    public void MksquashfsTurnsThePseudoFileIntoWhiteoutDevices()
    {
        var bottom = Layer("00", "d/old one", "d/old2");
        var hook = Layer("40", "d/new");
        MarkOpaque(Path.Combine(hook, "d"));
        var pseudo = _dir.File("whiteouts", OpaqueDirectories.PseudoFile(OpaqueDirectories.Whiteouts(hook, [bottom])));
        var image = Path.Combine(_dir.Path, "hook.squashfs");
        Assert.Equal(0, Run("mksquashfs", hook, image, "-noappend", "-no-progress", "-quiet", "-pf", pseudo, "-wildcards", "-e", "proc/*").Code);
        var listing = Run("unsquashfs", "-lln", image).Output;
        Assert.Matches(@"c--------- 0/0 +0, +0 .* squashfs-root/d/old one\n", listing);
        Assert.Matches(@"c--------- 0/0 +0, +0 .* squashfs-root/d/old2\n", listing);
        Assert.Contains("squashfs-root/d/new", listing);
    }

    [Fact]
    public void WhiteoutsDatedBySourceDateEpochMakeTheSameModuleAtAnotherTime()
    {
        var bottom = Layer("00", "d/old");
        var hook = Layer("40", "d/new");
        MarkOpaque(Path.Combine(hook, "d"));
        var pseudo = _dir.File("whiteouts", OpaqueDirectories.PseudoFile(OpaqueDirectories.Whiteouts(hook, [bottom]), "1700000000"));
        Assert.Equal("d/old C 1700000000 000 0 0 0 0\n", File.ReadAllText(pseudo));
        byte[] Squash(string name)
        {
            var image = Path.Combine(_dir.Path, name);
            var psi = new ProcessStartInfo("mksquashfs") { RedirectStandardOutput = true, RedirectStandardError = true };
            foreach (var a in new[] { hook, image, "-noappend", "-no-progress", "-quiet", "-pf", pseudo }) psi.ArgumentList.Add(a);
            psi.Environment["SOURCE_DATE_EPOCH"] = "1700000000";
            using var process = Process.Start(psi)!;
            process.StandardOutput.ReadToEnd();
            process.StandardError.ReadToEnd();
            process.WaitForExit();
            Assert.Equal(0, process.ExitCode);
            return File.ReadAllBytes(image);
        }
        var first = Squash("first.squashfs");
        Thread.Sleep(1100); // the clock moves on: a whiteout dated by it would differ
        Assert.Equal(first, Squash("second.squashfs"));
    }

    private static (int Code, string Output) Run(string program, params string[] args)
    {
        var psi = new ProcessStartInfo(program) { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var a in args) psi.ArgumentList.Add(a);
        using var process = Process.Start(psi)!;
        var output = process.StandardOutput.ReadToEnd() + process.StandardError.ReadToEnd();
        process.WaitForExit();
        return (process.ExitCode, output);
    }
}
