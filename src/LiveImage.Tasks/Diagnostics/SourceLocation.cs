namespace LiveImage.Tasks.Diagnostics;

/// <summary>A place in a file an IDE can open: an error about a project input points here, not at the SDK's task.</summary>
internal sealed record SourceLocation(string File, int Line = 0, int Column = 0);
