using System.Security.Cryptography;
using System.Text;
using LiveImage.Tasks.Configuration;

namespace LiveImage.Tasks.Tests;

/// <summary>
/// Issue 10, item 6: nothing derived from the password without a salt (the old "sha256:…" prefix)
/// reaches the build's output, its input caches or obj/; the configure stage still notices a change.
/// </summary>
public sealed class PasswordStateTests : IDisposable
{
    private readonly TempDirectory _dir = new();
    private readonly FakeBuildEngine _engine = new();

    public void Dispose() => _dir.Dispose();

    private string StateFile => Path.Combine(_dir.Path, "obj/Release/amd64/configure.password");

    /// <summary>The fingerprint the build used to print: the first 64 bits of an unsalted SHA-256.</summary>
    private static string UnsaltedHash(string password) =>
        Convert.ToHexString(SHA256.HashData(Encoding.UTF8.GetBytes(password)))[..16].ToLowerInvariant();

    private string Generation(string password)
    {
        var task = new ResolveLiveImageConfiguration
        {
            BuildEngine = _engine, Architecture = "amd64", Suite = "trixie", IsRoot = () => true, ProjectDirectory = _dir.Path,
            LiveUser = "user", LivePassword = password, PasswordStateFile = StateFile,
        };
        Assert.True(task.Execute(), _engine.AllErrors);
        return task.LivePasswordGeneration;
    }

    [Theory]
    [InlineData("Hello world!", "saltstring", 5000, "$6$saltstring$svn8UoSVapNtMuq1ukKS4tPQd8iKwSMHWjl/O817G3uBnIFNjnQJuesI68u4OTLiBFdcbYEdFCoEOfaS35inz1")]
    [InlineData("Hello world!", "saltstringsaltstring", 10000, "$6$rounds=10000$saltstringsaltst$OW1/O6BYHV6BcXZu8QVeXbDWra3Oeqh0sbHbbMCVNSnCM/UrjmM0Dp8vOuZeHBy/YTBmSK6H9qs/y3RnOaw5v.")]
    public void Sha512CryptMatchesTheSpecificationsVectors(string password, string salt, int rounds, string expected)
    {
        Assert.Equal(expected, Sha512Crypt.Hash(password, salt, rounds));
        Assert.True(Sha512Crypt.Verify(password, expected));
        Assert.False(Sha512Crypt.Verify(password + "x", expected));
    }

    [Fact]
    public void TheSamePasswordKeepsItsGenerationAndAnotherChangesIt()
    {
        var first = Generation("live");
        Assert.Equal(first, Generation("live"));
        var other = Generation("other");
        Assert.NotEqual(first, other);
        Assert.NotEqual(first, Generation("live")); // back to the old one is a change too
    }

    [Fact]
    public void TheStateFileIsTheOwnersOnlyAndHoldsASaltedCryptHashNoUnsaltedOne()
    {
        var generation = Generation("live");
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(StateFile));
        var lines = File.ReadAllLines(StateFile);
        Assert.StartsWith("$6$", lines[0]);
        Assert.True(Sha512Crypt.Verify("live", lines[0]));
        Assert.DoesNotContain(UnsaltedHash("live"), File.ReadAllText(StateFile));
        Assert.DoesNotContain(UnsaltedHash("live"), generation);
        Assert.DoesNotContain(_engine.Messages, m => m.Message!.Contains(UnsaltedHash("live")));
        // another build's salt differs: the same password does not give the same hash
        File.Delete(StateFile);
        Generation("live");
        Assert.NotEqual(lines[0], File.ReadAllLines(StateFile)[0]);
    }

    [Fact]
    public void ARerunReasonSaysThePasswordChangedAndNothingMore()
    {
        var changes = ExplainStage.Describe(["HostName=debian", "LivePassword=0123abcd"], ["HostName=debian", "LivePassword=4567ef01"]);
        Assert.Equal(["LivePassword changed"], changes);
    }
}
