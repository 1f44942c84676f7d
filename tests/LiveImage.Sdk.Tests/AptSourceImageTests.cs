using System.IO.Compression;
using System.Security.Cryptography;
using System.Text;

namespace LiveImage.Sdk.Tests;

/// <summary>
/// Extra archives with their keys (AptSource) and a password kept out of the build's logs
/// (LivePasswordFile), on copies of the built minimal sample and a signed archive on 127.0.0.1.
/// </summary>
[Collection(MinimalImageCollection.Name)]
public sealed class AptSourceImageTests(MinimalImageFixture image, ITestOutputHelper output)
{
    [Fact]
    public void SignedSourcesInstallTheirPackagesAndOnlyTheImagesOwnStayWhileThePasswordStaysOutOfTheBinlog()
    {
        var copy = image.CopyOfBuiltImage("apt-source");
        using var archive = new LocalArchive(Path.Combine(copy, "archive"));
        archive.AddPackage("both", "liveimage-hello");
        archive.Publish("both");
        archive.AddPackage("build", "liveimage-buildtool");
        archive.Publish("build");
        MinimalImageFixture.AddItems(copy, $"""
            <AptSource Include="local" Uri="{archive.BaseUri}both/" Suites="./" Key="archive/archive-key.gpg" />
            <AptSource Include="tools" Uri="{archive.BaseUri}build/" Suites="./" Key="archive/archive-key.gpg" Use="build" />
            <Package Include="liveimage-hello" />
            <Package Include="liveimage-buildtool" />
            """);
        var secret = $"pw-{Guid.NewGuid():N}";
        var passwordFile = Path.Combine(image.Workspace.Root, "apt-source-password");
        File.WriteAllText(passwordFile, secret + "\n");
        var binlog = Path.Combine(copy, "build.binlog");

        var build = image.Workspace.Build(copy, output, $"-p:LivePasswordFile={passwordFile}", $"-bl:{binlog}");
        Assert.True(build.Succeeded, "the build with AptSource items failed");
        Assert.Contains("packages [amd64]: runs because", build.Output);
        Assert.Contains("configure [amd64]: runs because LivePassword changed", build.Output);
        Assert.Contains("apt sources local (" + archive.BaseUri, build.Output);

        var squashfs = Path.Combine(copy, "obj/Release/amd64/iso/live/filesystem.squashfs");
        Assert.Equal("hello from liveimage-hello\n", Tools.ReadFromSquashfs(squashfs, "/usr/share/liveimage-hello/hello.txt"));
        Assert.True(Tools.ExistsInSquashfs(squashfs, "/usr/share/liveimage-buildtool/hello.txt"), "the build-only source's package is not installed");
        var kept = Tools.ReadFromSquashfs(squashfs, "/etc/apt/sources.list.d/liveimage-local.sources");
        Assert.Contains($"URIs: {archive.BaseUri}both/", kept);
        Assert.Contains("Signed-By: /etc/apt/keyrings/liveimage-local.gpg", kept);
        Assert.True(Tools.ExistsInSquashfs(squashfs, "/etc/apt/keyrings/liveimage-local.gpg"), "the kept source's key is not in the image");
        Assert.False(Tools.ExistsInSquashfs(squashfs, "/etc/apt/sources.list.d/liveimage-tools.sources"), "the build-only source stayed in the image");
        Assert.False(Tools.ExistsInSquashfs(squashfs, "/etc/apt/keyrings/liveimage-tools.gpg"), "the build-only key stayed in the image");

        // the password works for the live user, and is nowhere in the binlog or the build's files
        var shadow = Tools.ReadFromSquashfs(squashfs, "/etc/shadow").Split('\n').Single(l => l.StartsWith("user:", StringComparison.Ordinal));
        var hash = shadow.Split(':')[1];
        var (code, crypted) = Tools.Run("perl", "-e", "print crypt($ARGV[0], $ARGV[1])", secret, hash);
        Assert.True(code == 0 && crypted == hash, $"the live user's password is not the one in LivePasswordFile ({hash})");
        // nor is the unsalted SHA-256 prefix the build once printed as the password's fingerprint (issue 10, item 6)
        var unsalted = Convert.ToHexString(SHA256.HashData(Encoding.UTF8.GetBytes(secret)))[..16].ToLowerInvariant();
        var binlogText = GunzippedText(binlog);
        Assert.Contains(passwordFile, binlogText); // the search works: the file's name is there
        Assert.DoesNotContain(secret, binlogText);
        Assert.DoesNotContain(unsalted, binlogText);
        foreach (var file in Directory.EnumerateFiles(Path.Combine(copy, "obj/Release/amd64"), "*", SearchOption.TopDirectoryOnly)
                     .Concat(Directory.EnumerateFiles(Path.Combine(copy, "obj/Release/amd64/logs"))))
        {
            Assert.DoesNotContain(secret, File.ReadAllText(file));
            Assert.DoesNotContain(unsalted, File.ReadAllText(file));
        }
        Assert.DoesNotContain(secret, build.Output);
        Assert.DoesNotContain(unsalted, build.Output);
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(Path.Combine(copy, "obj/Release/amd64/configure.password")));

        var again = image.Workspace.Build(copy, output, $"-p:LivePasswordFile={passwordFile}");
        Assert.True(again.Succeeded);
        Assert.DoesNotContain("runs because", again.Output);
    }

    [Fact]
    public void ASourceSignedWithAnotherKeyIsLIVE1026NamingIt()
    {
        var copy = image.CopyOfBuiltImage("apt-source-wrong-key");
        using var archive = new LocalArchive(Path.Combine(copy, "archive"));
        using var other = new LocalArchive(Path.Combine(copy, "other"));
        archive.AddPackage("repo", "liveimage-hello");
        archive.Publish("repo");
        MinimalImageFixture.AddItems(copy, $"""<AptSource Include="wrongkey" Uri="{archive.BaseUri}repo/" Suites="./" Key="other/archive-key.gpg" />""");

        var build = image.Workspace.Build(copy, output);
        Assert.False(build.Succeeded);
        Assert.Contains("error LIVE1026: apt could not read the package lists of AptSource wrongkey", build.Output);
        Assert.Empty(Tools.MountsBelow(copy));
    }

    /// <summary>A binary log's records, decompressed; strings in it are UTF-8.</summary>
    private static string GunzippedText(string binlog)
    {
        using var gzip = new GZipStream(File.OpenRead(binlog), CompressionMode.Decompress);
        using var bytes = new MemoryStream();
        gzip.CopyTo(bytes);
        return Encoding.UTF8.GetString(bytes.ToArray());
    }
}
