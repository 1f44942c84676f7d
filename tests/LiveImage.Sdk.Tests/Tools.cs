using System.Diagnostics;

namespace LiveImage.Sdk.Tests;

/// <summary>Runs host tools (unsquashfs, xorriso) to inspect built images without mounting them.</summary>
internal static class Tools
{
    /// <summary>
    /// Copies the module <paramref name="file"/> that liveimage-save-module wrote to an ext4 disk image off it
    /// (debugfs, without mounting it) into <paramref name="directory"/>, and returns its full listing.
    /// </summary>
    public static string SavedModuleListing(string disk, string file, string directory)
    {
        Directory.CreateDirectory(directory);
        var module = Path.Combine(directory, file);
        var (dump, dumpOutput) = Run("debugfs", "-R", $"dump /{file} {module}", disk);
        Assert.True(dump == 0 && File.Exists(module), dumpOutput);
        var (list, listing) = Run("unsquashfs", "-lln", "-d", "", module);
        Assert.True(list == 0, listing);
        return listing;
    }

    public static (int ExitCode, string Output) Run(string program, params string[] arguments) => RunIn(null, program, arguments);

    /// <summary>Runs a program in a working directory; stdout comes first in the output, then stderr.</summary>
    public static (int ExitCode, string Output) RunIn(string? directory, string program, params string[] arguments)
    {
        var psi = new ProcessStartInfo(program) { RedirectStandardOutput = true, RedirectStandardError = true, WorkingDirectory = directory ?? "" };
        foreach (var a in arguments) psi.ArgumentList.Add(a);
        using var p = Process.Start(psi)!;
        var stdout = p.StandardOutput.ReadToEndAsync();
        var stderr = p.StandardError.ReadToEndAsync();
        p.WaitForExit();
        return (p.ExitCode, stdout.Result + stderr.Result);
    }

    /// <summary>One file of the image, read straight from its squashfs.</summary>
    public static string ReadFromSquashfs(string squashfs, string path)
    {
        var (code, output) = Run("unsquashfs", "-cat", squashfs, path);
        Assert.True(code == 0, $"unsquashfs -cat {path}: {output}");
        return output;
    }

    public static bool ExistsInSquashfs(string squashfs, string path)
    {
        var (code, output) = Run("unsquashfs", "-lls", "-d", "", squashfs, path);
        return code == 0 && output.Split('\n').Any(l => l.TrimEnd().EndsWith(path, StringComparison.Ordinal));
    }

    /// <summary>Mount points anywhere on the machine, in any namespace, below a directory.</summary>
    public static IReadOnlyList<string> MountsBelow(string directory)
    {
        var found = new List<string>();
        foreach (var proc in Directory.GetDirectories("/proc").Where(d => char.IsDigit(Path.GetFileName(d)[0])))
        {
            try { found.AddRange(File.ReadLines(Path.Combine(proc, "mounts")).Where(l => l.Split(' ')[1].StartsWith(directory, StringComparison.Ordinal))); }
            catch (IOException) { }
            catch (UnauthorizedAccessException) { }
        }
        return found.Distinct().ToList();
    }

    /// <summary>Processes whose command line mentions a directory.</summary>
    public static IReadOnlyList<string> ProcessesMentioning(string directory)
    {
        var found = new List<string>();
        foreach (var proc in Directory.GetDirectories("/proc").Where(d => char.IsDigit(Path.GetFileName(d)[0])))
        {
            try
            {
                var cmd = File.ReadAllText(Path.Combine(proc, "cmdline")).Replace('\0', ' ');
                if (cmd.Contains(directory, StringComparison.Ordinal)) found.Add($"{Path.GetFileName(proc)}: {cmd}");
            }
            catch (IOException) { }
            catch (UnauthorizedAccessException) { }
        }
        return found;
    }
}
