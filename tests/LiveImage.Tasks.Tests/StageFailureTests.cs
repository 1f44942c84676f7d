using LiveImage.Tasks.Diagnostics;


namespace LiveImage.Tasks.Tests;

/// <summary>How a failed stage's log is read: a mirror apt could not reach, a disk that filled up.</summary>
public sealed class StageFailureTests
{
    private const string MmdebstrapUnreachable = """
        I: running apt-get update...
        Ign:1 http://127.0.0.1:9/debian trixie InRelease
        Err:1 http://127.0.0.1:9/debian trixie InRelease
          Could not connect to 127.0.0.1:9 (127.0.0.1). - connect (111: Connection refused)
        Reading package lists...
        E: Failed to fetch http://127.0.0.1:9/debian/dists/trixie/InRelease  Could not connect to 127.0.0.1:9 (127.0.0.1). - connect (111: Connection refused)
        E: Some index files failed to download. They have been ignored, or old ones used instead.
        E: mmdebstrap failed to run
        """;

    [Fact]
    public void AnUnreachableMirrorIsNamedWithAptsReason()
    {
        var failure = MirrorFailure.Find(MmdebstrapUnreachable);
        Assert.NotNull(failure);
        Assert.Equal("http://127.0.0.1:9/debian", failure.Mirror);
        Assert.Equal("Could not connect to 127.0.0.1:9 (127.0.0.1). - connect (111: Connection refused)", failure.Reason);
    }

    [Fact]
    public void AptGetUpdatesErrLineIsEnoughWhenThereIsNoFailedToFetchLine()
    {
        var failure = MirrorFailure.Find("Err:1 http://127.0.0.1:9/debian trixie InRelease\n  Temporary failure resolving 'mirror.invalid'\nE: apt-get update failed\n");
        Assert.Equal(new MirrorFailure("http://127.0.0.1:9/debian", "Temporary failure resolving 'mirror.invalid'"), failure);
    }

    [Theory]
    [InlineData("E: Failed to fetch http://127.0.0.1/debian/pool/main/v/vim/vim_9.1_amd64.deb  404  Not Found [IP: 127.0.0.1 80]")]
    [InlineData("E: Unable to locate package liveimage-no-such-package")]
    [InlineData("dpkg: error processing archive x.deb (--unpack): failed to write (No space left on device)")]
    public void OtherFailuresAreNotAnUnreachableMirror(string log) => Assert.Null(MirrorFailure.Find(log));

    [Theory]
    [InlineData("http://127.0.0.1:9/debian/dists/trixie/InRelease", "http://127.0.0.1:9/debian")]
    [InlineData("http://127.0.0.1/debian/pool/main/v/vim/vim_9.1_amd64.deb", "http://127.0.0.1/debian")]
    [InlineData("http://127.0.0.1/other/", "http://127.0.0.1/other")]
    public void TheMirrorIsTheArchivesRoot(string url, string mirror) => Assert.Equal(mirror, MirrorFailure.MirrorOf(url));

    [Theory]
    [InlineData(" cannot copy extracted data for './usr/share/vim/vim91/doc/x.txt' to '/usr/share/vim/vim91/doc/x.txt.dpkg-new': failed to write (No space left on device)")]
    [InlineData("E: You don't have enough free space in /var/cache/apt/archives/.")]
    public void AFullDiskIsFoundAnywhereInTheLog(string symptom)
    {
        string[] log = ["Unpacking vim-runtime ...", symptom, .. Enumerable.Repeat("Errors were encountered while processing:", 30)];
        Assert.Equal(symptom.Trim(), DiskSpace.FirstSymptom(log));
    }

    [Fact]
    public void ALogWithoutASymptomIsNotAFullDisk() =>
        Assert.Null(DiskSpace.FirstSymptom(["E: Sub-process /usr/bin/dpkg returned an error code (1)"]));
}

public sealed class DiskSpacePathTests
{
    [Theory]
    [InlineData("No space left on device : '/tmp/x/obj/Release/amd64/logs/packages.log'", "/tmp/x/obj/Release/amd64/logs/packages.log")]
    [InlineData("No space left on device", null)]
    [InlineData("cannot write 'relative/path'", null)]
    public void TheFileAnIoErrorNamesIsFound(string message, string? path) => Assert.Equal(path, DiskSpace.PathIn(message));
}
