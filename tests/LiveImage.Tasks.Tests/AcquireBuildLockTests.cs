using System.Collections;
using System.Collections.Concurrent;
using Microsoft.Build.Framework;

namespace LiveImage.Tasks.Tests;

/// <summary>Two builds of one project at a time: the second waits or fails with LIVE1022, never shares obj/.</summary>
public sealed class AcquireBuildLockTests : IDisposable
{
    private readonly TempDirectory _dir = new();
    private string LockFile => Path.Combine(_dir.Path, "obj/Release/amd64.lock");

    public void Dispose() => _dir.Dispose();

    private static AcquireBuildLock Task(BuildEngine4 engine, string lockFile, int timeout = 0) =>
        new() { BuildEngine = engine, LockFile = lockFile, TimeoutSeconds = timeout, Architecture = "amd64", PollInterval = TimeSpan.FromMilliseconds(50) };

    [Fact]
    public void SecondBuildFailsWithLIVE1022NamingTheHolderUntilTheFirstEnds()
    {
        using var first = new BuildEngine4();
        Assert.True(Task(first, LockFile).Execute(), first.Log.AllErrors);
        Assert.True(File.Exists(LockFile + ".owner"));

        using var second = new BuildEngine4();
        Assert.False(Task(second, LockFile).Execute());
        var error = Assert.Single(second.Log.Errors);
        Assert.Equal("LIVE1022", error.Code);
        Assert.Contains(LockFile, error.Message);
        Assert.Contains($"pid {Environment.ProcessId}", error.Message);
        Assert.Contains("BuildLockTimeout", error.Message);

        first.EndBuild(); // MSBuild disposes the registered lock at the end of the build
        Assert.False(File.Exists(LockFile + ".owner"));
        using var third = new BuildEngine4();
        Assert.True(Task(third, LockFile).Execute(), third.Log.AllErrors);
    }

    [Fact]
    public void SecondBuildWaitsForTheFirstWithinBuildLockTimeout()
    {
        using var first = new BuildEngine4();
        Assert.True(Task(first, LockFile).Execute());
        using var second = new BuildEngine4();
        bool? result = null;
        var waiting = new Thread(() => result = Task(second, LockFile, timeout: 30).Execute());
        waiting.Start();
        var deadline = DateTime.UtcNow.AddSeconds(10);
        while (!second.Log.Messages.Any(m => m.Message!.Contains("waiting up to 30 s")) && DateTime.UtcNow < deadline) Thread.Sleep(20);
        Assert.True(waiting.IsAlive, "the second build did not wait");
        first.EndBuild();
        Assert.True(waiting.Join(TimeSpan.FromSeconds(10)), "the second build did not get the lock after the first ended");
        Assert.True(result, second.Log.AllErrors);
    }

    [Fact]
    public void TheSameBuildTakesItsOwnLockAgain()
    {
        // Rebuild: Clean and Build both depend on the lock target in one build
        using var build = new BuildEngine4();
        Assert.True(Task(build, LockFile).Execute());
        Assert.True(Task(build, LockFile).Execute(), build.Log.AllErrors);
    }

    [Fact]
    public void OtherArchitecturesAndConfigurationsHaveLocksOfTheirOwn()
    {
        using var amd64 = new BuildEngine4();
        using var arm64 = new BuildEngine4();
        Assert.True(Task(amd64, LockFile).Execute());
        Assert.True(Task(arm64, Path.Combine(_dir.Path, "obj/Release/arm64.lock")).Execute(), arm64.Log.AllErrors);
    }

    [Fact]
    public void ALockHeldByAnotherProcessCountsToo()
    {
        // flock is per open file: a holder outside this process (here: flock(1)) blocks as well
        Directory.CreateDirectory(Path.GetDirectoryName(LockFile)!);
        using var holder = System.Diagnostics.Process.Start("flock", [LockFile, "sleep", "30"]);
        try
        {
            var deadline = DateTime.UtcNow.AddSeconds(10);
            while (!File.ReadAllText("/proc/locks").Contains($" {holder.Id} ") && DateTime.UtcNow < deadline) Thread.Sleep(20);
            using var build = new BuildEngine4();
            Assert.False(Task(build, LockFile).Execute());
            Assert.Equal(["LIVE1022"], build.Log.ErrorCodes);
        }
        finally
        {
            holder.Kill();
            holder.WaitForExit();
        }
    }
}

/// <summary>An engine with MSBuild's registered task objects: <see cref="EndBuild"/> disposes them as the end of a build does.</summary>
internal sealed class BuildEngine4 : IBuildEngine4, IDisposable
{
    private readonly ConcurrentDictionary<object, object> _objects = new();
    public FakeBuildEngine Log { get; } = new();

    public void EndBuild()
    {
        foreach (var o in _objects.Values) (o as IDisposable)?.Dispose();
        _objects.Clear();
    }

    public void Dispose() => EndBuild();

    public void RegisterTaskObject(object key, object obj, RegisteredTaskObjectLifetime lifetime, bool allowEarlyCollection) => _objects[key] = obj;
    public object? GetRegisteredTaskObject(object key, RegisteredTaskObjectLifetime lifetime) => _objects.GetValueOrDefault(key);
    public object? UnregisterTaskObject(object key, RegisteredTaskObjectLifetime lifetime) => _objects.TryRemove(key, out var o) ? o : null;

    public bool ContinueOnError => false;
    public int LineNumberOfTaskNode => 0;
    public int ColumnNumberOfTaskNode => 0;
    public string ProjectFileOfTaskNode => "test.liveproj";
    public bool IsRunningMultipleNodes => false;
    public void LogErrorEvent(BuildErrorEventArgs e) => Log.LogErrorEvent(e);
    public void LogWarningEvent(BuildWarningEventArgs e) => Log.LogWarningEvent(e);
    public void LogMessageEvent(BuildMessageEventArgs e) => Log.LogMessageEvent(e);
    public void LogCustomEvent(CustomBuildEventArgs e) { }
    public bool BuildProjectFile(string projectFileName, string[] targetNames, IDictionary globalProperties, IDictionary targetOutputs) => false;
    public bool BuildProjectFile(string projectFileName, string[] targetNames, IDictionary globalProperties, IDictionary targetOutputs, string toolsVersion) => false;
    public bool BuildProjectFilesInParallel(string[] projectFileNames, string[] targetNames, IDictionary[] globalProperties, IDictionary[] targetOutputsPerProject, string[] toolsVersion, bool useResultsCache, bool unloadProjectsOnCompletion) => false;
    public BuildEngineResult BuildProjectFilesInParallel(string[] projectFileNames, string[] targetNames, IDictionary[] globalProperties, IList<string>[] removeGlobalProperties, string[] toolsVersion, bool returnTargetOutputs) => default;
    public void Yield() { }
    public void Reacquire() { }
}
