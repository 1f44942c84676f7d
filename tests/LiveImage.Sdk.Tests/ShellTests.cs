namespace LiveImage.Sdk.Tests;

/// <summary>
/// Working inside a built image: '-t:Shell' with a script on its standard input and with ShellCommand, and a
/// project's own target that runs a command with MountChroot (the example the SDK package ships). Each runs on a
/// copy of the built minimal sample, whose stages are up to date: only the command itself runs.
/// </summary>
[Collection(MinimalImageCollection.Name)]
public sealed class ShellTests(MinimalImageFixture image, ITestOutputHelper output)
{
    [Fact]
    public void ShellRunsAScriptFromStandardInputInTheImageAndKeepsNothingItChanged()
    {
        var copy = image.CopyOfBuiltImage("shell");
        using var shell = image.Workspace.Start(copy, [], ["build", "-nodeReuse:false", "-tl:off", "-v:m", "-nologo", "-t:Shell"], input: true);
        shell.StandardInput.Write("cat /etc/hostname\ntouch /x\necho shell-done \"$(id -u)\"\n");
        shell.StandardInput.Close();
        var text = shell.StandardOutput.ReadToEnd() + shell.StandardError.ReadToEnd();
        shell.WaitForExit();
        output.WriteLine(text);

        Assert.Equal(0, shell.ExitCode);
        Assert.Contains("debian\n", text);
        Assert.Contains("shell-done 0", text);
        Assert.DoesNotContain("runs because", text);
        var layers = Directory.GetDirectories(Path.Combine(copy, "obj/Release/amd64/layers"));
        Assert.NotEmpty(layers);
        Assert.All(layers, layer => Assert.False(File.Exists(Path.Combine(layer, "x")), $"{layer} has the shell's /x"));
        Assert.False(Directory.Exists(Path.Combine(copy, "obj/Release/amd64/scratch/shell/discarded")));
    }

    [Fact]
    public void ShellCommandRunsOneCommandAndShowsItsOutputAtMinimalVerbosity()
    {
        var copy = image.CopyOfBuiltImage("shell-command");
        var result = image.Workspace.Run(copy, output, [], ["build", "-nodeReuse:false", "-tl:off", "-v:m", "-nologo", "-t:Shell", "-p:ShellCommand=test -f /etc/motd && echo motd-%24(wc -l < /etc/motd)"]);

        Assert.True(result.Succeeded, result.Output);
        Assert.Contains("motd-1", result.Output);
        var failed = image.Workspace.Run(copy, output, [], ["build", "-nodeReuse:false", "-tl:off", "-v:m", "-nologo", "-t:Shell", "-p:ShellCommand=exit 3"]);
        Assert.False(failed.Succeeded);
        Assert.Contains("LIVE3003", failed.Output);
    }

    [Fact]
    public void AProjectsOwnTargetRunsACommandInTheImageWithMountChroot()
    {
        var copy = image.CopyOfBuiltImage("mountchroot");
        // the example as the SDK package ships it
        var example = Directory.EnumerateFiles(image.Workspace.NuGetPackages, "KernelVersion.targets", SearchOption.AllDirectories).Single();
        Assert.Contains(Path.Combine("examples", "targets"), example);
        var project = Path.Combine(copy, "debian-live-minimal.liveproj");
        File.WriteAllText(project, File.ReadAllText(project).Replace("</Project>", $"  <Import Project=\"{example}\" />\n</Project>"));

        var result = image.Workspace.Run(copy, output, [], ["build", "-nodeReuse:false", "-tl:off", "-v:m", "-nologo", "-t:KernelVersion"]);

        Assert.True(result.Succeeded, result.Output);
        Assert.Matches(@"debian-live-minimal \[amd64\]: kernel \d+\.\d+\.\d+\S*-amd64", result.Output);
        Assert.False(Directory.Exists(Path.Combine(copy, "obj/Release/amd64/kernel-version/discarded")));
    }
}
