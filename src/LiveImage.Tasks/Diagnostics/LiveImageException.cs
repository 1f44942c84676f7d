namespace LiveImage.Tasks.Diagnostics;

/// <summary>
/// A failure with a coded message: the resource name in Strings.resx and its arguments.
/// Thrown deep in helpers, logged once by <see cref="LiveImageTask"/>.
/// </summary>
internal sealed class LiveImageException(string resourceName, params object[] arguments)
    : Exception(Strings.Format(resourceName, arguments))
{
    public string ResourceName { get; } = resourceName;
    public object[] Arguments { get; } = arguments;

    /// <summary>The file the error is about (a hook), for an IDE to open; null: where MSBuild puts it (the task).</summary>
    public SourceLocation? Location { get; init; }
}
