namespace LiveImage.Tasks.Tests;

public sealed class ExplainStageTests
{
    [Fact]
    public void ChangedPropertyIsNamedWithOldAndNewValue() =>
        Assert.Equal(["Suite changed (bookworm -> trixie)"], ExplainStage.Describe(["Suite=bookworm", "Variant=minbase"], ["Suite=trixie", "Variant=minbase"]));

    [Fact]
    public void AddedAndRemovedItemsAreNamed() =>
        Assert.Equal(["Package vim added", "Package less removed"],
            ExplainStage.Describe(["Package=less", "Package=curl"], ["Package=curl", "Package=vim"]));

    [Fact]
    public void ReorderedItemsAreNamed() =>
        Assert.Equal(["Hook order changed"], ExplainStage.Describe(["Hook=a", "Hook=b"], ["Hook=b", "Hook=a"]));

    [Fact]
    public void NoChangeIsEmpty() => Assert.Empty(ExplainStage.Describe(["A=1"], ["A=1"]));

    [Fact]
    public void NewerStampIsTheStageBelow()
    {
        using var dir = new TempDirectory();
        var stamp = dir.File("hooks.stamp", "x");
        var done = dir.File("hooks.inputs.done", "A=1\n");
        var cache = dir.File("hooks.inputs.cache", "A=1\n");
        var below = dir.File("includes.stamp", "y");
        File.SetLastWriteTimeUtc(stamp, DateTime.UtcNow.AddMinutes(-1));
        var task = new ExplainStage { StageName = "hooks", InputsCache = cache, LastInputs = done, Stamp = stamp, InputFiles = [Items.Item(below)] };
        Assert.Equal("the stage below it (includes) ran again", task.Reason());
    }

    [Fact]
    public void NeverCompletedStageSaysSo()
    {
        using var dir = new TempDirectory();
        var task = new ExplainStage { StageName = "bootstrap", InputsCache = dir.File("c", "A=1"), LastInputs = Path.Combine(dir.Path, "none"), Stamp = Path.Combine(dir.Path, "none") };
        Assert.Equal("it has not completed before", task.Reason());
    }
}
