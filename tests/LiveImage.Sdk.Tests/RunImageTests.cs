using System.Diagnostics;
using System.Text;

namespace LiveImage.Sdk.Tests;

/// <summary>
/// 'dotnet run' boots the built minimal image for a user: a scripted console logs in on the serial console
/// (qemu's standard input and output are dotnet run's) and powers the guest off, which ends dotnet run.
/// </summary>
[Collection(MinimalImageCollection.Name)]
public sealed class RunImageTests(MinimalImageFixture image, ITestOutputHelper output)
{
    private static readonly TimeSpan Limit = TimeSpan.FromMinutes(15);

    [Fact]
    public void DotnetRunBootsTheImageOnTheTerminalAndPoweringOffEndsIt()
    {
        var copy = image.CopyOfBuiltImage("run");
        var clock = Stopwatch.StartNew();
        using var run = image.Workspace.Start(copy, [], ["run", "-p:VmDisplay=none", "-p:VmBootMode=bios"], input: true);
        var console = new StringBuilder();
        var errors = new StringBuilder();
        run.ErrorDataReceived += (_, e) => { if (e.Data is not null) lock (errors) errors.AppendLine(e.Data); };
        run.BeginErrorReadLine();
        // a guest that hangs silently must not hang the test run
        using var limit = new Timer(_ => { try { run.Kill(entireProcessTree: true); } catch (InvalidOperationException) { } }, null, Limit, Timeout.InfiniteTimeSpan);
        (string Prompt, string Typed)[] script =
        [
            ("login:", "user"),
            ("Password:", "live"),
            ("$ ", "sudo poweroff"),
            ("password for user", "live"),
        ];
        var step = 0;
        var seen = 0;
        var buffer = new char[4096];
        int n;
        while ((n = run.StandardOutput.Read(buffer, 0, buffer.Length)) > 0)
        {
            console.Append(buffer, 0, n);
            if (step < script.Length && console.ToString().IndexOf(script[step].Prompt, seen, StringComparison.Ordinal) is var at and >= 0)
            {
                seen = at + script[step].Prompt.Length;
                run.StandardInput.Write(script[step].Typed + "\n");
                run.StandardInput.Flush();
                step++;
            }
        }
        run.WaitForExit();
        var text = console.ToString();
        output.WriteLine($"dotnet run: exit {run.ExitCode} after {clock.Elapsed.TotalSeconds:0} s, {step} of {script.Length} console steps");
        output.WriteLine(text.Length > 20000 ? text[^20000..] : text);
        output.WriteLine(errors.ToString());

        Assert.Equal(script.Length, step);
        Assert.Equal(0, run.ExitCode);
        Assert.Contains("reboot: Power down", text);
        Assert.Contains("qemu ended", text);
        Assert.Empty(QemuProcessesUsing(copy));
    }

    /// <summary>Every qemu still running with a file of <paramref name="directory"/> on its command line.</summary>
    private static List<string> QemuProcessesUsing(string directory)
    {
        var found = new List<string>();
        foreach (var proc in Directory.EnumerateDirectories("/proc").Where(p => Path.GetFileName(p).All(char.IsDigit)))
        {
            string cmdline;
            try { cmdline = File.ReadAllText(Path.Combine(proc, "cmdline")).Replace('\0', ' '); }
            catch (IOException) { continue; }
            if (cmdline.Contains("qemu-system", StringComparison.Ordinal) && cmdline.Contains(directory, StringComparison.Ordinal)) found.Add(cmdline);
        }
        return found;
    }
}
