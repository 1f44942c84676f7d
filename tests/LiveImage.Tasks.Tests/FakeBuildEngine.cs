using System.Collections;
using Microsoft.Build.Framework;

namespace LiveImage.Tasks.Tests;

/// <summary>Records what a task logs, in the spirit of MSBuild's own MockEngine.</summary>
internal sealed class FakeBuildEngine : IBuildEngine
{
    private readonly object _gate = new();
    public List<BuildErrorEventArgs> Errors { get; } = [];
    public List<BuildWarningEventArgs> Warnings { get; } = [];
    public List<BuildMessageEventArgs> Messages { get; } = [];

    public bool ContinueOnError => false;
    public int LineNumberOfTaskNode => 0;
    public int ColumnNumberOfTaskNode => 0;
    public string ProjectFileOfTaskNode => "test.liveproj";

    public void LogErrorEvent(BuildErrorEventArgs e) { lock (_gate) Errors.Add(e); }
    public void LogWarningEvent(BuildWarningEventArgs e) { lock (_gate) Warnings.Add(e); }
    public void LogMessageEvent(BuildMessageEventArgs e) { lock (_gate) Messages.Add(e); }
    public void LogCustomEvent(CustomBuildEventArgs e) { }
    public bool BuildProjectFile(string projectFileName, string[] targetNames, IDictionary globalProperties, IDictionary targetOutputs) => false;

    public IEnumerable<string> ErrorCodes => Errors.Select(e => e.Code);
    public string AllErrors => string.Join("\n", Errors.Select(e => $"{e.Code}: {e.Message}"));
}
