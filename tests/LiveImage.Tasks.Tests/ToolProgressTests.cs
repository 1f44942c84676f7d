using LiveImage.Tasks.Processes;
using Microsoft.Build.Framework;
using Microsoft.Build.Utilities;
using Xunit;

namespace LiveImage.Tasks.Tests;

/// <summary>How a long tool's output becomes a few progress lines (apt's packages, mksquashfs's percent), and stays out of the log file where it is a redrawn bar.</summary>
public class ToolProgressTests
{
    private static List<string> Feed(ToolProgress progress, IEnumerable<string> lines, List<string>? kept = null)
    {
        var shown = new List<string>();
        foreach (var line in lines)
        {
            if (progress.Observe(line, out var step)) kept?.Add(line);
            if (step is not null) shown.Add(step);
        }
        return shown;
    }

    private static IEnumerable<string> AptOutput(int packages)
    {
        yield return "Reading package lists...";
        yield return $"0 upgraded, {packages} newly installed, 0 to remove and 0 not upgraded.";
        for (var i = 1; i <= packages; i++) yield return $"Get:{i} pkg{i} 1.0 [10 kB]";
        for (var i = 1; i <= packages; i++) { yield return $"Selecting previously unselected package pkg{i}."; yield return $"Unpacking pkg{i} (1.0) ..."; }
        for (var i = 1; i <= packages; i++) yield return $"Setting up pkg{i} (1.0) ...";
    }

    [Fact]
    public void Apt_unpacking_and_setting_up_are_counted_against_the_packages_apt_announced_one_line_per_tenth()
    {
        var shown = Feed(new AptProgress("packages [amd64]"), AptOutput(120));

        // the first package, then one per tenth
        Assert.Equal(11, shown.Count(s => s.Contains("unpacking")));
        Assert.Equal(11, shown.Count(s => s.Contains("setting up")));
        Assert.Equal("packages [amd64]: unpacking 1/120", shown[0]);
        Assert.Contains("packages [amd64]: unpacking 12/120", shown);
        Assert.Contains("packages [amd64]: unpacking 120/120", shown);
        Assert.Equal("packages [amd64]: setting up 120/120", shown[^1]);
    }

    [Fact]
    public void A_few_packages_show_each_one_and_apt_output_stays_in_the_log()
    {
        var kept = new List<string>();
        var shown = Feed(new AptProgress("packages [amd64]"), AptOutput(3), kept);

        Assert.Equal(["packages [amd64]: unpacking 1/3", "packages [amd64]: unpacking 2/3", "packages [amd64]: unpacking 3/3",
            "packages [amd64]: setting up 1/3", "packages [amd64]: setting up 2/3", "packages [amd64]: setting up 3/3"], shown);
        Assert.Equal(AptOutput(3).ToList(), kept);
    }

    [Fact]
    public void Without_apts_announcement_nothing_is_shown()
    {
        Assert.Empty(Feed(new AptProgress("p"), ["Unpacking a (1) ...", "Setting up a (1) ..."]));
    }

    [Fact]
    public void The_mksquashfs_bar_becomes_a_percent_line_per_tenth_and_leaves_the_log()
    {
        var bars = Enumerable.Range(0, 5001).Select(i => $"[{new string('=', i % 60)}|{new string(' ', 60 - i % 60)}] {i}/5000 {i * 100 / 5000}%");
        var kept = new List<string>();
        var shown = Feed(new SquashfsProgress("squash [amd64]"), ["Parallel mksquashfs: Using 2 processors", .. bars, "Filesystem size 5862.09 Kbytes"], kept);

        Assert.Equal(11, shown.Count);
        Assert.Equal("squash [amd64]: compressing 0% (0/5000)", shown[0]);
        Assert.Contains("squash [amd64]: compressing 50% (2500/5000)", shown);
        Assert.Equal("squash [amd64]: compressing 100% (5000/5000)", shown[^1]);
        Assert.Equal(["Parallel mksquashfs: Using 2 processors", "Filesystem size 5862.09 Kbytes"], kept);
    }

    [Fact]
    public void The_runner_logs_progress_lines_at_high_importance_and_keeps_bars_out_of_the_log_file()
    {
        var engine = new FakeBuildEngine();
        var log = new TaskLoggingHelper(engine, "test");
        var logFile = Path.Combine(Path.GetTempPath(), $"liveimage-progress-{Guid.NewGuid():N}.log");
        try
        {
            var script = "echo start; i=0; while [ $i -le 20 ]; do printf '\\r[==] %d/20 %d%%' $i $((i*5)); i=$((i+1)); done; echo; echo end";
            var result = new ProcessRunner(log, CancellationToken.None).Run(
                new ToolCommand("/bin/sh", ["-c", script]) { LogPath = logFile, Progress = new SquashfsProgress("squash [amd64]") });

            Assert.Equal(0, result.ExitCode);
            var high = engine.Messages.Where(m => m.Importance == MessageImportance.High).Select(m => m.Message).ToList();
            Assert.Equal(11, high.Count);
            Assert.Equal("squash [amd64]: compressing 100% (20/20)", high[^1]);
            var written = File.ReadAllText(logFile);
            Assert.Contains("start", written);
            Assert.Contains("end", written);
            Assert.DoesNotContain(written.Split('\n'), l => l.StartsWith("[==]", StringComparison.Ordinal));
        }
        finally
        {
            File.Delete(logFile);
        }
    }
}
