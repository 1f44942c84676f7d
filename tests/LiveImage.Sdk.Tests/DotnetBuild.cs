using System.Diagnostics;
using System.Text;

namespace LiveImage.Sdk.Tests;

/// <summary>The result of one 'dotnet build' child process.</summary>
public sealed record BuildResult(int ExitCode, string Output, TimeSpan Duration)
{
    public bool Succeeded => ExitCode == 0;
}

/// <summary>
/// A workspace outside the repo where samples are built exactly as a user would, against the
/// freshly packed SDK: its own nuget.config and global.json, and its own NUGET_PACKAGES, so a
/// stale cached SDK can never be picked up.
/// </summary>
internal sealed class Workspace
{
    public string Root { get; }
    public string NuGetPackages => Path.Combine(Root, ".nuget-packages");

    public Workspace(string name)
    {
        Root = Path.Combine(Path.GetTempPath(), $"liveimage-e2e-{name}-{Environment.ProcessId}");
        if (Directory.Exists(Root)) Directory.Delete(Root, recursive: true);
        Directory.CreateDirectory(Root);
        File.WriteAllText(Path.Combine(Root, "nuget.config"), $"""
            <?xml version="1.0" encoding="utf-8"?>
            <configuration>
              <packageSources>
                <clear />
                <add key="liveimage-under-test" value="{TestEnvironment.PackageFeed}" />
              </packageSources>
            </configuration>
            """);
        File.WriteAllText(Path.Combine(Root, "global.json"), $$"""
            { "msbuild-sdks": { "LiveImage.Sdk": "{{TestEnvironment.SdkVersion}}" } }
            """);
    }

    /// <summary>Copies a sample (its project, hooks and files; never its obj/ or bin/) into the workspace.</summary>
    public string CopySample(string sample, string? copyName = null)
    {
        var source = TestEnvironment.Sample(sample);
        var target = Path.Combine(Root, copyName ?? sample);
        foreach (var file in Directory.EnumerateFiles(source, "*", SearchOption.AllDirectories))
        {
            var relative = Path.GetRelativePath(source, file);
            if (relative.StartsWith("obj/") || relative.StartsWith("bin/")) continue;
            var destination = Path.Combine(target, relative);
            Directory.CreateDirectory(Path.GetDirectoryName(destination)!);
            File.Copy(file, destination);
            File.SetUnixFileMode(destination, File.GetUnixFileMode(file));
        }
        return target;
    }

    public Process Start(string projectDirectory, params string[] arguments) => Start(projectDirectory, [], ["build", "-nodeReuse:false", "-tl:off", "-v:n", "-nologo", .. arguments]);

    /// <summary>
    /// Starts dotnet with the given arguments, optionally under a wrapper such as 'unshare -n'; <paramref name="environment"/>
    /// sets variables after the workspace's own (null removes one).
    /// </summary>
    public Process Start(string projectDirectory, string[] wrapper, string[] dotnetArguments, IReadOnlyDictionary<string, string?>? environment = null, bool input = false)
    {
        // env execs the rest: SIGINT as a terminal's Ctrl+C sends it, even when this test run was started with it ignored (nohup &)
        var psi = new ProcessStartInfo("env")
        {
            WorkingDirectory = projectDirectory,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = input,
            UseShellExecute = false,
        };
        var all = new[] { "--default-signal=INT" }.Concat(wrapper).Append("dotnet").Concat(dotnetArguments);
        foreach (var a in all) psi.ArgumentList.Add(a);
        // the test host's own MSBuild context must not leak into the child build
        foreach (var key in psi.Environment.Keys.Where(k => k.StartsWith("MSBuild", StringComparison.OrdinalIgnoreCase)).ToList()) psi.Environment.Remove(key);
        psi.Environment["NUGET_PACKAGES"] = NuGetPackages;
        psi.Environment["MSBUILDDISABLENODEREUSE"] = "1";
        psi.Environment["DOTNET_CLI_USE_MSBUILD_SERVER"] = "0";
        // every test builds its stages for real unless it is about the stage cache (StageCacheTests, the minimal image's cold build)
        psi.Environment["StageCache"] = "false";
        foreach (var (key, value) in environment ?? new Dictionary<string, string?>())
        {
            if (value is null) psi.Environment.Remove(key);
            else psi.Environment[key] = value;
        }
        return Process.Start(psi)!;
    }

    public BuildResult Build(string projectDirectory, ITestOutputHelper? output, params string[] arguments) =>
        Run(projectDirectory, output, [], ["build", "-nodeReuse:false", "-tl:off", "-v:n", "-nologo", .. arguments]);

    public BuildResult Run(string projectDirectory, ITestOutputHelper? output, string[] wrapper, string[] dotnetArguments, IReadOnlyDictionary<string, string?>? environment = null)
    {
        var started = DateTime.UtcNow;
        using var process = Start(projectDirectory, wrapper, dotnetArguments, environment);
        var text = new StringBuilder();
        void Append(string? line)
        {
            if (line is null) return;
            lock (text) text.AppendLine(line);
        }
        process.OutputDataReceived += (_, e) => Append(e.Data);
        process.ErrorDataReceived += (_, e) => Append(e.Data);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        process.WaitForExit();
        var result = new BuildResult(process.ExitCode, text.ToString(), DateTime.UtcNow - started);
        output?.WriteLine($"$ {string.Join(' ', wrapper)} dotnet {string.Join(' ', dotnetArguments)}  (exit {result.ExitCode}, {result.Duration.TotalSeconds:0.0} s)");
        output?.WriteLine(result.Output.Length > 60000 ? result.Output[^60000..] : result.Output);
        return result;
    }
}
