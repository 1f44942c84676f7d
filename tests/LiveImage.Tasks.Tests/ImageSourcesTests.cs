using System.Diagnostics;
using LiveImage.Tasks.Distributions.Debian;

namespace LiveImage.Tasks.Tests;

/// <summary>
/// The finalize stage's rewrite of the bootstrapped apt sources for an ImageMirror, run with the
/// real shell and awk on a plain folder: only the main archive's URI changes; the updates entry
/// follows it, the security archive and the project's own sources stay.
/// </summary>
public sealed class ImageSourcesTests : IDisposable
{
    private readonly TempDirectory _root = new();

    private void Rewrite(string mirror = "http://mirror.example/debian")
    {
        var psi = new ProcessStartInfo("/bin/sh") { RedirectStandardError = true };
        psi.ArgumentList.Add("-c");
        psi.ArgumentList.Add(Apt.ImageSourcesScript);
        psi.Environment["LIVEIMAGE_ROOT"] = _root.Path;
        psi.Environment["LIVEIMAGE_SUITE"] = "trixie";
        psi.Environment["LIVEIMAGE_COMPONENTS"] = "main contrib";
        psi.Environment["LIVEIMAGE_MIRROR"] = mirror;
        using var sh = Process.Start(psi)!;
        var errors = sh.StandardError.ReadToEnd();
        sh.WaitForExit();
        Assert.True(sh.ExitCode == 0, errors);
    }

    private string Read(string path) => File.ReadAllText(Path.Combine(_root.Path, path));

    [Fact]
    public void One_line_sources_keep_updates_and_security_with_only_the_main_archive_replaced()
    {
        _root.File("etc/apt/sources.list", """
            deb http://archive.example/debian trixie main
            deb [arch=amd64 signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] http://archive.example/debian trixie-updates main
            deb http://security.example/debian-security trixie-security main

            """);

        Rewrite();

        Assert.Equal("""
            deb http://mirror.example/debian trixie main
            deb [arch=amd64 signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] http://mirror.example/debian trixie-updates main
            deb http://security.example/debian-security trixie-security main

            """, Read("etc/apt/sources.list"));
    }

    [Fact]
    public void Deb822_sources_are_rewritten_and_the_projects_own_sources_are_left_alone()
    {
        const string own = "Types: deb\nURIs: http://archive.example/debian\nSuites: trixie\nComponents: main\n";
        _root.File("etc/apt/sources.list.d/debian.sources", """
            Types: deb deb-src
            URIs: http://archive.example/debian
            Suites: trixie trixie-updates
            Components: main

            Types: deb
            URIs: http://security.example/debian-security
            Suites: trixie-security
            Components: main

            """);
        _root.File("etc/apt/sources.list.d/liveimage-extra.sources", own);

        Rewrite();

        Assert.Equal("""
            Types: deb deb-src
            URIs: http://mirror.example/debian
            Suites: trixie trixie-updates
            Components: main

            Types: deb
            URIs: http://security.example/debian-security
            Suites: trixie-security
            Components: main

            """, Read("etc/apt/sources.list.d/debian.sources"));
        Assert.Equal(own, Read("etc/apt/sources.list.d/liveimage-extra.sources"));
    }

    [Fact]
    public void Without_an_entry_for_the_suite_the_mirror_is_added()
    {
        _root.File("etc/apt/sources.list", "deb http://security.example/debian-security trixie-security main\n");

        Rewrite();

        Assert.Equal("deb http://security.example/debian-security trixie-security main\ndeb http://mirror.example/debian trixie main contrib\n",
            Read("etc/apt/sources.list"));
    }

    public void Dispose() => _root.Dispose();
}
