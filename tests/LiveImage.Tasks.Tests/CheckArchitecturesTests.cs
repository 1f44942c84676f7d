namespace LiveImage.Tasks.Tests;

/// <summary>The outer build's check of Architectures, before any inner build starts.</summary>
public sealed class CheckArchitecturesTests
{
    private readonly FakeBuildEngine _engine = new();

    private CheckArchitectures Task(string architectures, string suite = "trixie") =>
        new() { BuildEngine = _engine, Architectures = architectures, Suite = suite };

    [Theory]
    [InlineData("amd64")]
    [InlineData("amd64;arm64")]
    [InlineData(" amd64 ; arm64 ;")]
    [InlineData("amd64;arm64;armhf")]
    public void WellFormedListsPass(string architectures)
    {
        Assert.True(Task(architectures).Execute(), _engine.AllErrors);
        Assert.Empty(_engine.Warnings);
    }

    [Theory]
    [InlineData("amd64,arm64")]
    [InlineData("amd64 arm64")]
    [InlineData("amd64, arm64")]
    public void SeparatorTypoIsLIVE1017WithTheFix(string architectures)
    {
        Assert.False(Task(architectures).Execute());
        var error = Assert.Single(_engine.Errors);
        Assert.Equal("LIVE1017", error.Code);
        Assert.Contains($"'{architectures}'", error.Message);
        Assert.Contains("<Architectures>amd64;arm64</Architectures>", error.Message);
    }

    [Fact]
    public void UnknownEntryIsLIVE1001()
    {
        Assert.False(Task("amd64;armel").Execute());
        var error = Assert.Single(_engine.Errors);
        Assert.Equal("LIVE1001", error.Code);
        Assert.Contains("'armel'", error.Message);
    }

    [Fact]
    public void I386OnTrixieIsLIVE1018AndOnBookwormPasses()
    {
        Assert.False(Task("amd64;i386").Execute());
        Assert.Equal(["LIVE1018"], _engine.ErrorCodes);
        _engine.Errors.Clear();
        Assert.True(Task("amd64;i386", "bookworm").Execute(), _engine.AllErrors);
    }
}
