using LiveImage.Tasks.Configuration;
using LiveImage.Tasks.Diagnostics;
using LiveImage.Tasks.Emulation;
using LiveImage.Tasks.Processes;
using Microsoft.Build.Framework;
using Microsoft.Build.Utilities;

namespace LiveImage.Tasks;

/// <summary>
/// Base of every LiveImage task: coded messages from Resources/Strings.resx, cancellation
/// (Ctrl+C reaches <see cref="Cancel"/>), and one place that turns failures into coded errors.
/// </summary>
public abstract class LiveImageTask : Microsoft.Build.Utilities.Task, ICancelableTask
{
    private readonly CancellationTokenSource _cancel = new();

    protected LiveImageTask() : base(Strings.Manager, "LiveImage.")
    {
    }

    protected CancellationToken CancellationToken => _cancel.Token;

    public void Cancel() => _cancel.Cancel();

    public sealed override bool Execute()
    {
        try
        {
            ExecuteCore();
        }
        catch (LiveImageException e)
        {
            Log.Error(e.Location, e.ResourceName, e.Arguments);
        }
        catch (OperationCanceledException)
        {
            Log.LogErrorWithCodeFromResources(nameof(Strings.Cancelled), GetType().Name);
        }
        catch (IOException e) when (DiskSpace.IsFull([e.Message]))
        {
            Log.LogErrorWithCodeFromResources(nameof(Strings.DiskFullWriting), GetType().Name, e.Message, DiskSpace.FreeMiB(DiskSpace.PathIn(e.Message) ?? "."));
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            Log.LogErrorWithCodeFromResources(nameof(Strings.IoFailure), GetType().Name, e.Message);
        }
        return !Log.HasLoggedErrors;
    }

    protected abstract void ExecuteCore();

    /// <summary>Runs external tools with logging to a file, a tail for errors and cancellation.</summary>
    private protected ProcessRunner CreateRunner() => new(Log, CancellationToken);

    protected void High(string resourceName, params object[] args) =>
        Log.LogMessageFromResources(MessageImportance.High, resourceName, args);

    /// <summary>
    /// For a stage that runs programs of a foreign architecture: holds qemu-user's binfmt_misc handler
    /// (registering it first when <paramref name="register"/> allows) until disposed, or fails with
    /// LIVE2013 saying what to run. Nothing to do when <paramref name="emulatedArchitecture"/> is empty.
    /// </summary>
    private protected IDisposable? OpenEmulation(string emulatedArchitecture, bool register)
    {
        if (emulatedArchitecture.Length == 0) return null;
        var arch = DebianArchitecture.Find(emulatedArchitecture) ?? throw new LiveImageException(nameof(Strings.UnknownArchitecture), emulatedArchitecture, DebianArchitecture.Names);
        // without root the build changes nothing of binfmt_misc (nor may it lock /run): it uses an F handler the admin registered
        if (Rootfs.UserNamespace.Active)
        {
            if (Binfmt.Check(arch.BinfmtHandler) is { } problem)
                throw new LiveImageException(nameof(Strings.RootlessBinfmtNotReady), arch.Name, DebianArchitecture.Host, arch.BinfmtHandler, problem.Reason, problem.Command);
            return null;
        }
        return BinfmtSession.Open(arch, register, Log, CancellationToken);
    }

    /// <summary>LIVE2014 when a maintainer script failed in an emulated build: some do not work under qemu-user.</summary>
    internal static void ThrowIfEmulationFailure(string emulatedArchitecture, string stage, ToolResult result)
    {
        if (emulatedArchitecture.Length == 0) return;
        var log = File.Exists(result.LogPath) ? File.ReadAllText(result.LogPath) : result.TailText;
        if (MaintainerScriptFailure.Find(log) is { } failure)
            throw new LiveImageException(nameof(Strings.EmulatedMaintainerScriptFailed), failure.Package, failure.Script, failure.Outcome,
                emulatedArchitecture, DebianArchitecture.Host, stage, result.TailText, result.LogPath);
    }
}
