using LiveImage.Tasks.Diagnostics;
using Microsoft.Build.Framework;

namespace LiveImage.Tasks;

/// <summary>
/// Makes one inner build (one project, configuration and architecture) the only writer of its
/// obj/ directory. Design: the first target of the inner build opens a lock file next to the
/// architecture's obj directory (obj/&lt;Configuration&gt;/&lt;arch&gt;.lock, so that Clean, which
/// deletes obj/&lt;Configuration&gt;/&lt;arch&gt;/, never deletes a held lock) with FileShare.None,
/// which .NET implements on Linux as flock(LOCK_EX). The open file is registered with MSBuild
/// for the lifetime of the build, so it stays locked until the build ends and MSBuild disposes
/// it; if the build dies instead (SIGKILL, a crash), the kernel drops the flock with the
/// process, so a lock is never left stale. The descriptor is close-on-exec: the tools the
/// build starts do not inherit it. A second build meanwhile waits up to
/// <see cref="TimeoutSeconds"/> (default 0) and then fails with LIVE1022 before it has written
/// anything. Locking per stage instead would let two builds interleave their stages.
/// </summary>
public sealed class AcquireBuildLock : LiveImageTask
{
    /// <summary>The lock file; a sidecar "&lt;lock&gt;.owner" says who holds it, for the other build's message.</summary>
    [Required] public string LockFile { get; set; } = "";
    /// <summary>How long a second build waits for the first before it fails; 0: fail at once.</summary>
    public int TimeoutSeconds { get; set; }
    public string Architecture { get; set; } = "";

    /// <summary>Overridable for tests: the time between attempts.</summary>
    internal TimeSpan PollInterval { get; set; } = TimeSpan.FromMilliseconds(500);

    protected override void ExecuteCore()
    {
        var path = Path.GetFullPath(LockFile);
        var key = "LiveImage.BuildLock:" + path;
        var engine = BuildEngine as IBuildEngine4;
        // Rebuild runs Clean and then Build in one build: the lock is already ours
        if (engine?.GetRegisteredTaskObject(key, RegisteredTaskObjectLifetime.Build) is not null) return;
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        var started = DateTime.UtcNow;
        var waiting = false;
        FileStream held;
        while (!TryLock(path, out held!))
        {
            var waited = DateTime.UtcNow - started;
            if (waited.TotalSeconds >= TimeoutSeconds)
                throw new LiveImageException(nameof(Strings.BuildLocked), path, Owner(path), (int)waited.TotalSeconds);
            if (!waiting)
            {
                High(nameof(Strings.BuildLockWaiting), "lock [" + Architecture + "]", path, Owner(path), TimeoutSeconds);
                waiting = true;
            }
            CancellationToken.WaitHandle.WaitOne(PollInterval);
            CancellationToken.ThrowIfCancellationRequested();
        }
        File.WriteAllText(path + ".owner", $"pid {Environment.ProcessId}, since {DateTime.UtcNow:yyyy-MM-dd HH:mm:ss} UTC");
        var holder = new Holder(held, path + ".owner");
        if (engine is null) holder.Dispose(); // no build to hold it for (a bare IBuildEngine)
        else engine.RegisterTaskObject(key, holder, RegisteredTaskObjectLifetime.Build, allowEarlyCollection: false);
        Log.LogMessage(MessageImportance.Low, $"lock [{Architecture}]: {path} held until the build ends");
    }

    private static bool TryLock(string path, out FileStream? stream)
    {
        try
        {
            stream = new FileStream(path, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None);
            return true;
        }
        catch (IOException e) when (File.Exists(path) && e is not (FileNotFoundException or DirectoryNotFoundException))
        {
            // EWOULDBLOCK from flock: someone else holds it
            stream = null;
            return false;
        }
    }

    private static string Owner(string path)
    {
        try { return File.ReadAllText(path + ".owner").Trim(); }
        catch (IOException) { return "owner unknown"; }
    }

    /// <summary>Keeps the lock file open (and so locked) until MSBuild disposes it at the end of the build.</summary>
    private sealed class Holder(FileStream stream, string ownerFile) : IDisposable
    {
        public void Dispose()
        {
            try { File.Delete(ownerFile); } catch (IOException) { }
            stream.Dispose();
        }
    }
}
