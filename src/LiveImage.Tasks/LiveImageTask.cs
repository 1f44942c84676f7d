using LiveImage.Tasks.Internal;
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
            Log.LogErrorWithCodeFromResources(e.ResourceName, e.Arguments);
        }
        catch (OperationCanceledException)
        {
            Log.LogErrorWithCodeFromResources("Cancelled", GetType().Name);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            Log.LogErrorWithCodeFromResources("IoFailure", GetType().Name, e.Message);
        }
        return !Log.HasLoggedErrors;
    }

    protected abstract void ExecuteCore();

    /// <summary>Runs external tools with logging to a file, a tail for errors and cancellation.</summary>
    private protected ProcessRunner CreateRunner() => new(Log, CancellationToken);

    protected void High(string resourceName, params object[] args) =>
        Log.LogMessageFromResources(MessageImportance.High, resourceName, args);
}
