using LiveImage.Tasks.StageCache;
using Microsoft.Build.Framework;

namespace LiveImage.Tasks;

/// <summary>Empties the stage cache (dotnet build -t:CleanStageCache); obj/ and the package cache stay.</summary>
public sealed class CleanStageCache : LiveImageTask
{
    /// <summary>The StageCacheDirectory property.</summary>
    public string Directory { get; set; } = "";

    protected override void ExecuteCore()
    {
        if (Directory.Length == 0) return;
        var cache = new LocalStageCache(Directory);
        var entries = cache.Entries();
        cache.Clear();
        Log.LogMessage(MessageImportance.High, $"stage cache: removed {entries.Count} entries ({entries.Sum(e => e.Bytes) / (1024 * 1024)} MiB) from {cache.Root}");
    }
}
