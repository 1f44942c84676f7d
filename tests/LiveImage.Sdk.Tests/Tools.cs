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

    /// <summary>
    /// Every file of an image's layers with owner, mode, type, link target, device numbers, extended attributes,
    /// and a regular file's size (a directory's depends on how it was filled): what a stage cache round trip keeps.
    /// The layers of a build with root mark opaque directories with trusted.overlay.opaque, those of a rootless one with user.overlay.opaque.
    /// </summary>
    public static string LayerListing(string layers, string opaqueAttribute = "trusted.overlay.opaque")
    {
        var (code, text) = RunIn(layers, "sh", "-ec", """
            find . -path './*.key' -prune -o -printf '%p %U:%G %m %y %l\n' | sort
            find . -type f -printf '%p %s\n' | sort
            find . -type c -exec stat -c '%n %t:%T' {} + | sort
            getfattr -R -h -d -m - -e hex . 2>/dev/null | awk 'BEGIN { RS = ""; FS = "\n" } { for (i = 2; i <= NF; i++) print $1 " " $i }' | sort
            """);
        Assert.True(code == 0, text);
        // the layers hold overlay whiteouts and opaque directories: the listing would see them go
        Assert.Matches(@"(?m)^\./\S+ 0:0$", text);
        Assert.Contains(opaqueAttribute, text);
        return text;
    }

    public static string Sha256(string file)
    {
        using var stream = File.OpenRead(file);
        return Convert.ToHexString(System.Security.Cryptography.SHA256.HashData(stream)).ToLowerInvariant();
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
